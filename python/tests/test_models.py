"""dlfs.models: the catalog, training a catalog model by hand, checkpoints both ways."""
import numpy as np
import pytest

import dlfs


def test_catalog_lists_what_the_cli_lists():
    names = dlfs.models.list()
    for name in ("two-layer-net", "simple-convnet", "lenet5", "vgg-small-bn", "googlenet",
                 "resnet20"):
        assert name in names
    entry = next(e for e in dlfs.models.catalog() if e["name"] == "lenet5")
    assert entry["variants"][0] == "28"


def test_build_reports_its_shape_and_parameter_count():
    model = dlfs.models.build("lenet5")
    assert model.input_shape == (1, 28, 28) and model.classes == 10
    assert model.parameter_count == 61706  # torchvision-style LeNet-5, as `dlfs models` says
    assert sum(p.size for p in model.params.values()) == 61706
    assert "conv1.weight" in model.params and model.params["conv1.weight"].shape == (6, 1, 5, 5)


def test_unknown_model_and_variant_are_value_errors():
    with pytest.raises(ValueError, match="unknown model 'lenet6'"):
        dlfs.models.build("lenet6")
    with pytest.raises(ValueError, match="lenet5"):
        dlfs.models.build("lenet5", input="99")


def test_training_by_hand_lowers_the_loss(device, rng):
    model = dlfs.models.build("lenet5", seed=3, device=device)
    x = rng.random((32, 1, 28, 28)).astype(np.float32)
    t = rng.integers(0, 10, 32)
    optimizer = dlfs.Adam(lr=0.003)
    first = model.loss(x, t)
    for _ in range(60):  # 32 random images with random labels: learnt by heart
        model.loss(x, t)
        model.backward()
        optimizer.update(model.params, model.grads)
    last = model.loss(x, t, train=False)
    assert last < 0.5 * first, (first, last)
    assert model.accuracy(x, t) > 0.8


def test_same_seed_same_weights_and_cpu_agrees_with_device(device, rng):
    a = dlfs.models.build("simple-convnet", seed=7)
    b = dlfs.models.build("simple-convnet", seed=7, device=device)
    x = rng.random((4, 1, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(a.predict(x), b.predict(x), rtol=1e-4, atol=1e-5)
    c = dlfs.models.build("simple-convnet", seed=8)
    assert not np.allclose(a.predict(x), c.predict(x))


def test_save_and_load_round_trip(in_tmp, rng):
    model = dlfs.models.build("mlp-bn", seed=1)
    x = rng.random((8, 1, 28, 28)).astype(np.float32)
    model.loss(x, rng.integers(0, 10, 8))  # a training forward moves the running statistics
    model.save(in_tmp / "m.safetensors", {"note": "hand-trained"})
    loaded = dlfs.models.load(in_tmp / "m.safetensors")
    assert loaded.name == "mlp-bn" and loaded.metadata["note"] == "hand-trained"
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    state = loaded.state_dict()
    assert any(k.endswith("running_mean") for k in state)
    other = dlfs.models.build("mlp-bn", seed=2)
    other.load_weights(in_tmp / "m.safetensors")
    np.testing.assert_array_equal(other.predict(x), model.predict(x))


def test_loading_into_the_wrong_model_names_the_tensor(in_tmp):
    dlfs.models.build("lenet5").save(in_tmp / "lenet.safetensors")
    with pytest.raises(ValueError, match="lenet.safetensors"):
        dlfs.models.build("simple-convnet").load_weights(in_tmp / "lenet.safetensors")
    with pytest.raises(ValueError, match="missing.safetensors"):
        dlfs.models.load(in_tmp / "missing.safetensors")


def test_pytorch_loads_the_state_dict(in_tmp):
    torch = pytest.importorskip("torch")
    model = dlfs.models.build("lenet5", seed=0)
    for name, value in model.state_dict().items():
        shared = torch.from_dlpack(model.params[name]) if name in model.params else None
        if shared is not None:
            np.testing.assert_array_equal(shared.numpy(), value)
