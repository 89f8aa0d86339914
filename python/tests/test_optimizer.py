"""The book's optimizers on dlfs kernels against the book's NumPy updates (common/optimizer.py),
step by step, on every device."""
import numpy as np
import pytest

import dlfs


def book_updates(name, params, grads_per_step, **kw):
    """The book's update rules applied to NumPy copies."""
    params = {k: v.copy() for k, v in params.items()}
    state, state2, it = {}, {}, 0
    for grads in grads_per_step:
        it += 1
        for k in params:
            p, g = params[k], grads[k]
            if name == "SGD":
                p -= kw["lr"] * g
            elif name == "Momentum":
                state[k] = kw["momentum"] * state.get(k, 0) - kw["lr"] * g
                p += state[k]
            elif name == "Nesterov":  # the book's form (docs/optimizers.md)
                m = kw["momentum"]
                state[k] = m * state.get(k, 0) - kw["lr"] * g
                p += m * m * state[k] - (1 + m) * kw["lr"] * g
            elif name == "AdaGrad":
                state[k] = state.get(k, 0) + g * g
                p -= kw["lr"] * g / (np.sqrt(state[k]) + 1e-7)
            elif name == "RMSprop":
                state[k] = kw["decay_rate"] * state.get(k, 0) + (1 - kw["decay_rate"]) * g * g
                p -= kw["lr"] * g / (np.sqrt(state[k]) + 1e-7)
            elif name == "Adam":
                b1, b2 = kw["beta1"], kw["beta2"]
                lr_t = kw["lr"] * np.sqrt(1.0 - b2 ** it) / (1.0 - b1 ** it)
                state[k] = state.get(k, 0) + (1 - b1) * (g - state.get(k, 0))
                state2[k] = state2.get(k, 0) + (1 - b2) * (g ** 2 - state2.get(k, 0))
                p -= lr_t * state[k] / (np.sqrt(state2[k]) + 1e-7)
    return params


CASES = [
    ("SGD", dict(lr=0.1)),
    ("Momentum", dict(lr=0.05, momentum=0.9)),
    ("Nesterov", dict(lr=0.05, momentum=0.9)),
    ("AdaGrad", dict(lr=0.1)),
    ("RMSprop", dict(lr=0.01, decay_rate=0.99)),
    ("Adam", dict(lr=0.01, beta1=0.9, beta2=0.999)),
]


@pytest.mark.parametrize("name,kw", CASES, ids=[c[0] for c in CASES])
def test_updates_match_the_book(device, rng, name, kw):
    dt = np.float64 if device == "cpu" else np.float32
    start = {"W": rng.standard_normal((3, 4)).astype(dt), "b": rng.standard_normal(4).astype(dt)}
    steps = [{k: rng.standard_normal(v.shape).astype(dt) for k, v in start.items()}
             for _ in range(5)]
    expected = book_updates(name, start, steps, **kw)
    params = {k: dlfs.tensor(v.copy(), device=device) for k, v in start.items()}
    optimizer = getattr(dlfs, name)(**kw)
    for grads in steps:
        optimizer.update(params, {k: dlfs.tensor(g, device=device) for k, g in grads.items()})
    tol = dict(rtol=1e-12, atol=1e-12) if device == "cpu" else dict(rtol=1e-5, atol=1e-6)
    for k in start:
        np.testing.assert_allclose(params[k].numpy(), expected[k], **tol)


def test_update_is_in_place_where_the_layer_sees_it(rng):
    W = dlfs.tensor(rng.standard_normal((2, 2)))
    layer = dlfs.Affine(W, dlfs.tensor(np.zeros(2)))
    params = {"W": layer.W}
    dlfs.SGD(1.0).update(params, {"W": dlfs.tensor(np.ones((2, 2)))})
    assert layer.W.same_storage(W)


def test_numpy_parameters_are_refused_with_a_reason():
    with pytest.raises(TypeError, match="must be dlfs tensors"):
        dlfs.SGD().update({"W": np.zeros(2)}, {"W": np.zeros(2)})
