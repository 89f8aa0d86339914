"""The book's layer classes on dlfs against the book's NumPy code (tests/book_reference.py) and
against numerical gradients, on every device there is."""
import numpy as np
import pytest

import book_reference as ref
import dlfs


def tolerance(device):
    # float64 on the CPU matches the NumPy reference to rounding; the GPU path is float32.
    return dict(rtol=1e-9, atol=1e-10) if device == "cpu" else dict(rtol=2e-4, atol=2e-5)


def dtype_for(device):
    return np.float64 if device == "cpu" else np.float32


def t(a, device):
    return dlfs.tensor(np.asarray(a), device=device)


def test_affine_matches_the_book(device, rng):
    dt = dtype_for(device)
    x = rng.standard_normal((4, 2, 3, 2)).astype(dt)  # flattened to [4, 12] as the book does
    W, b = rng.standard_normal((12, 5)).astype(dt), rng.standard_normal(5).astype(dt)
    dout = rng.standard_normal((4, 5)).astype(dt)
    layer = dlfs.Affine(t(W, device), t(b, device))
    out = layer.forward(t(x, device))
    dx = layer.backward(t(dout, device))
    e_out, e_dx, e_dW, e_db = ref.affine(x, W, b, dout)
    np.testing.assert_allclose(out.numpy(), e_out, **tolerance(device))
    np.testing.assert_allclose(dx.numpy(), e_dx, **tolerance(device))
    assert dx.shape == x.shape
    np.testing.assert_allclose(layer.dW.numpy(), e_dW, **tolerance(device))
    np.testing.assert_allclose(layer.db.numpy(), e_db, **tolerance(device))


@pytest.mark.parametrize("stride,pad,kernel", [(1, 0, 3), (2, 1, 3), (1, 0, 1), (2, 2, 5)])
def test_convolution_matches_the_book(device, rng, stride, pad, kernel):
    dt = dtype_for(device)
    x = rng.standard_normal((2, 3, 7, 6)).astype(dt)
    W = rng.standard_normal((4, 3, kernel, kernel)).astype(dt)
    b = rng.standard_normal(4).astype(dt)
    e_out, _, _, _ = ref.convolution(x, W, b, stride, pad, None)
    dout = rng.standard_normal(e_out.shape).astype(dt)
    e_out, e_dx, e_dW, e_db = ref.convolution(x, W, b, stride, pad, dout)
    layer = dlfs.Convolution(t(W, device), t(b, device), stride, pad)
    np.testing.assert_allclose(layer.forward(t(x, device)).numpy(), e_out, **tolerance(device))
    np.testing.assert_allclose(layer.backward(t(dout, device)).numpy(), e_dx, **tolerance(device))
    np.testing.assert_allclose(layer.dW.numpy(), e_dW, **tolerance(device))
    np.testing.assert_allclose(layer.db.numpy(), e_db, **tolerance(device))


def test_convolution_shares_its_weights_with_the_caller(rng):
    W = dlfs.tensor(rng.standard_normal((2, 1, 3, 3)))
    b = dlfs.tensor(np.zeros(2))
    layer = dlfs.Convolution(W, b)
    x = dlfs.tensor(rng.standard_normal((1, 1, 4, 4)))
    before = layer.forward(x).numpy().copy()
    W.numpy()[...] *= 2.0  # an in-place update, as an optimizer makes
    np.testing.assert_allclose(layer.forward(x).numpy(), 2.0 * before, rtol=1e-12)
    assert layer.W.same_storage(W)
    with pytest.raises(ValueError, match="must have shape"):
        layer.W = np.zeros((3, 1, 3, 3))


@pytest.mark.parametrize("size,stride,pad", [(2, 2, 0), (3, 1, 1), (3, 2, 0)])
def test_pooling_matches_the_book(device, rng, size, stride, pad):
    dt = dtype_for(device)
    x = rng.standard_normal((2, 3, 6, 7)).astype(dt)
    e_out, _ = ref.max_pooling(x, size, size, stride, pad, None)
    dout = rng.standard_normal(e_out.shape).astype(dt)
    e_out, e_dx = ref.max_pooling(x, size, size, stride, pad, dout)
    layer = dlfs.Pooling(size, size, stride, pad)
    np.testing.assert_allclose(layer.forward(t(x, device)).numpy(), e_out, **tolerance(device))
    np.testing.assert_allclose(layer.backward(t(dout, device)).numpy(), e_dx, **tolerance(device))


def test_relu_and_sigmoid_match_the_book(device, rng):
    dt = dtype_for(device)
    x = rng.standard_normal((3, 5)).astype(dt)
    dout = rng.standard_normal((3, 5)).astype(dt)
    relu = dlfs.Relu()
    np.testing.assert_allclose(relu.forward(t(x, device)).numpy(), np.maximum(x, 0))
    np.testing.assert_allclose(relu.backward(t(dout, device)).numpy(), dout * (x > 0))
    sigmoid = dlfs.Sigmoid()
    y = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(sigmoid.forward(t(x, device)).numpy(), y, **tolerance(device))
    np.testing.assert_allclose(sigmoid.backward(t(dout, device)).numpy(), dout * (1 - y) * y,
                               **tolerance(device))


@pytest.mark.parametrize("one_hot", [False, True])
def test_softmax_with_loss_matches_the_book(device, rng, one_hot):
    dt = dtype_for(device)
    x = rng.standard_normal((6, 4)).astype(dt) * 3
    labels = rng.integers(0, 4, 6)
    target = np.eye(4, dtype=dt)[labels] if one_hot else labels
    e_loss, e_y, e_dx = ref.softmax_with_loss(x, target)
    layer = dlfs.SoftmaxWithLoss()
    loss = layer.forward(t(x, device), target)
    # The book adds 1e-7 inside the log; dlfs computes log-softmax exactly.
    assert loss == pytest.approx(e_loss, rel=1e-5)
    np.testing.assert_allclose(layer.y.numpy(), e_y, **tolerance(device))
    np.testing.assert_allclose(layer.backward().numpy(), e_dx, **tolerance(device))


@pytest.mark.parametrize("shape,per_channel", [((8, 5), False), ((4, 3, 2, 2), True),
                                               ((4, 3, 2, 2), False)])
def test_batch_normalization_matches_the_book(device, rng, shape, per_channel):
    dt = dtype_for(device)
    x = rng.standard_normal(shape).astype(dt) * 2 + 1
    dout = rng.standard_normal(shape).astype(dt)
    if per_channel:  # PyTorch's BatchNorm2d: statistics over N, H, W for each channel
        features = shape[1]
        x2 = x.transpose(0, 2, 3, 1).reshape(-1, features)
        d2 = dout.transpose(0, 2, 3, 1).reshape(-1, features)
    else:  # the book: the input flattened to [N, C*H*W]
        features = int(np.prod(shape[1:]))
        x2, d2 = x.reshape(shape[0], -1), dout.reshape(shape[0], -1)
    gamma = rng.uniform(0.5, 1.5, features).astype(dt)
    beta = rng.standard_normal(features).astype(dt)
    e_out, e_dx, e_dgamma, e_dbeta, mu, var = ref.batch_norm_train(x2, gamma, beta, 10e-7, d2)
    if per_channel:
        n, c, h, w = shape
        e_out = e_out.reshape(n, h, w, c).transpose(0, 3, 1, 2)
        e_dx = e_dx.reshape(n, h, w, c).transpose(0, 3, 1, 2)
    layer = dlfs.BatchNormalization(t(gamma, device), t(beta, device))
    tol = dict(rtol=1e-7, atol=1e-9) if device == "cpu" else dict(rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(layer.forward(t(x, device), True).numpy().reshape(e_out.shape),
                               e_out, **tol)
    np.testing.assert_allclose(layer.backward(t(dout, device)).numpy().reshape(e_dx.shape), e_dx,
                               **tol)
    np.testing.assert_allclose(layer.dgamma.numpy(), e_dgamma, **tol)
    np.testing.assert_allclose(layer.dbeta.numpy(), e_dbeta, **tol)
    # Running statistics: 0.9 of the old (0 and 1) plus 0.1 of the batch's, the variance unbiased.
    count = x2.shape[0]
    np.testing.assert_allclose(layer.running_mean.numpy(), 0.1 * mu, **tol)
    np.testing.assert_allclose(layer.running_var.numpy(), 0.9 + 0.1 * var * count / (count - 1),
                               **tol)
    # Inference uses them.
    inference = layer.forward(t(x, device), False).numpy().reshape(x2.shape if not per_channel
                                                                   else x.shape)
    assert np.isfinite(inference).all()


def test_dropout_keeps_a_fraction_and_scales(rng):
    np.random.seed(0)
    layer = dlfs.Dropout(0.3)
    x = np.ones((200, 100))
    y = layer.forward(dlfs.tensor(x), True).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7)
    dx = layer.backward(dlfs.tensor(np.ones_like(x))).numpy()
    np.testing.assert_array_equal(dx != 0, kept)
    np.testing.assert_array_equal(layer.forward(dlfs.tensor(x), False).numpy(), x)


def test_two_layer_gradient_check_with_numerical_gradient(rng):
    W1, b1 = dlfs.tensor(rng.standard_normal((6, 5)) * 0.5), dlfs.tensor(np.zeros(5))
    W2, b2 = dlfs.tensor(rng.standard_normal((5, 3)) * 0.5), dlfs.tensor(np.zeros(3))
    x, labels = rng.standard_normal((4, 6)), np.array([0, 2, 1, 2])
    layers = [dlfs.Affine(W1, b1), dlfs.Relu(), dlfs.Affine(W2, b2)]
    last = dlfs.SoftmaxWithLoss()

    def loss(_=None):
        h = dlfs.tensor(x)
        for layer in layers:
            h = layer.forward(h)
        return last.forward(h, labels)

    loss()
    d = last.backward()
    for layer in reversed(layers):
        d = layer.backward(d)
    for W, analytic in ((W1, layers[0].dW), (W2, layers[2].dW), (b1, layers[0].db)):
        numeric = dlfs.numerical_gradient(loss, W)
        np.testing.assert_allclose(analytic.numpy(), numeric.numpy(), rtol=1e-5, atol=1e-7)


def test_numerical_gradient_on_numpy_and_on_the_device(device):
    f = lambda x: float(np.sum(np.asarray(x.numpy() if hasattr(x, "numpy") else x) ** 2))  # noqa
    a = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(dlfs.numerical_gradient(f, a.copy()), 2 * a, rtol=1e-6)
    x = dlfs.tensor(a.astype(np.float32), device=device)
    grad = dlfs.numerical_gradient(f, x)
    assert grad.device == x.device
    np.testing.assert_allclose(grad.numpy(), 2 * a, rtol=1e-2)
    np.testing.assert_array_equal(x.numpy(), a.astype(np.float32))  # restored


def test_mixed_devices_and_shapes_raise_value_errors(rng):
    layer = dlfs.Affine(dlfs.tensor(rng.standard_normal((4, 3))), dlfs.tensor(np.zeros(3)))
    with pytest.raises(ValueError, match="inner sizes differ"):
        layer.forward(dlfs.tensor(rng.standard_normal((2, 5))))
