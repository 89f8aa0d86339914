"""dlfs.onnx and `dlfs export`: every catalog model exported, checked by onnx.checker and run by
onnxruntime against dlfs's own logits; a trained LeNet-5 exported through the CLI with its pixel
standardisation folded in; the auxiliary heads left out; the errors.

The figure checked is the largest |onnxruntime - dlfs| over a batch, relative to the largest
|logit| of the batch; docs/onnx.md lists the measured ones. Skips only where onnx or
onnxruntime cannot be imported (and the trained case where Fashion-MNIST or the dlfs program is
missing), each with its reason.
"""
import os
import subprocess
import sys
import time

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the onnx package is not installed")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")

import dlfs  # noqa: E402
import dlfs.onnx as exporter  # noqa: E402
from conftest import FASHION_MNIST, REPO, dlfs_binary  # noqa: E402

RELATIVE_TOLERANCE = 1e-5
SLOW_SECONDS = 20.0


def max_relative_error(got, want):
    """max |got - want| / max |want|, the figure each comparison asserts."""
    assert got.shape == want.shape, (got.shape, want.shape)
    return float(np.max(np.abs(got.astype(np.float64) - want)) / np.max(np.abs(want)))


def run_onnxruntime(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["logits"], {"input": np.ascontiguousarray(x, dtype=np.float32)})[0]


def randomize_batch_norm(model, rng):
    """Running statistics and affine parameters away from their initial 0/1, so that exporting
    them wrongly (swapped, missing, training mode) shows in the logits."""
    params = model.params  # the model's own tensors: writing their NumPy views writes the model
    buffers = dict(model._core.buffers())
    for node in model.nodes():
        if node["type"] != "BatchNorm":
            continue
        name, features = node["name"], node["attributes"]["num_features"]
        params[name + ".weight"].numpy()[:] = rng.uniform(0.5, 1.5, features)
        params[name + ".bias"].numpy()[:] = rng.normal(0.0, 0.2, features)
        buffers[name + ".running_mean"].numpy()[:] = rng.normal(0.0, 0.2, features)
        buffers[name + ".running_var"].numpy()[:] = rng.uniform(0.5, 2.0, features)


@pytest.fixture(scope="module")
def error_table(request):
    """Collects each model's figure and prints them as one table after the module's tests."""
    table = {}
    yield table
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if not (reporter and capture and table):
        return
    with capture.global_and_fixture_disabled():  # shown without -s, as a summary is
        reporter.write_line("")
        reporter.write_line("ONNX export: max |onnxruntime - dlfs| / max |logit|, batch of 2")
        for name, (variant, error, largest, seconds) in table.items():
            reporter.write_line("  %-15s %-4s %.2e   (max |logit| %.3g, %.1f s)%s" % (
                name, variant, error, largest, seconds,
                "  SLOW" if seconds > SLOW_SECONDS else ""))


def catalog_cases():
    for entry in dlfs.models.catalog():
        variant = entry["variants"][0]
        marks = []
        if variant == "224":
            marks = [pytest.mark.skip(reason="%s has only the 224x224 input, too slow for a CPU "
                                      "test" % entry["name"])]
        yield pytest.param(entry["name"], variant, id=entry["name"], marks=marks)


@pytest.mark.parametrize("name, variant", list(catalog_cases()))
def test_catalog_model_matches_onnxruntime(name, variant, tmp_path, error_table):
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    model = dlfs.models.build(name, variant, init="he", seed=0)
    randomize_batch_norm(model, rng)
    path = exporter.export(model, tmp_path / (name + ".onnx"))
    assert path == tmp_path / (name + ".onnx")

    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    (graph_input,), (graph_output,) = proto.graph.input, proto.graph.output
    assert graph_input.name == "input" and graph_output.name == "logits"
    input_dims = graph_input.type.tensor_type.shape.dim
    assert input_dims[0].dim_param == "N"
    assert [d.dim_value for d in input_dims[1:]] == list(model.input_shape)
    output_dims = graph_output.type.tensor_type.shape.dim
    assert output_dims[0].dim_param == "N" and output_dims[1].dim_value == model.classes
    assert "Dropout" not in {n.op_type for n in proto.graph.node}
    state = model.state_dict()
    for tensor in proto.graph.initializer:
        if tensor.name.endswith(".factor"):
            continue
        assert tensor.name in state, tensor.name
        np.testing.assert_array_equal(onnx.numpy_helper.to_array(tensor), state[tensor.name])
    metadata = {p.key: p.value for p in proto.metadata_props}
    assert metadata["dlfs_model"] == name and metadata["dlfs_variant"] == variant
    assert metadata["dlfs_classes"] == str(model.classes) and metadata["dlfs_opset"] == "17"
    assert metadata["dlfs_version"] == dlfs.__version__
    assert metadata["dlfs_normalization"] == "none"  # a built model has no standardisation

    x = rng.random((2,) + tuple(model.input_shape), dtype=np.float32)
    want = model.predict(x, normalize=False)
    got = run_onnxruntime(path, x)
    error = max_relative_error(got, want)
    seconds = time.perf_counter() - start
    error_table[name] = (variant, error, float(np.max(np.abs(want))), seconds)
    print("%s (%s): max relative error %.2e, %.1f s" % (name, variant, error, seconds))
    assert error <= RELATIVE_TOLERANCE


def test_batch_dimension_is_dynamic(tmp_path):
    model = dlfs.models.build("lenet5", init="he", seed=0)
    path = exporter.export(model, tmp_path / "lenet5.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(1)
    for batch in (1, 5):
        x = rng.random((batch, 1, 28, 28), dtype=np.float32)
        got = session.run(["logits"], {"input": x})[0]
        assert got.shape == (batch, 10)
        assert max_relative_error(got, model.predict(x, normalize=False)) <= RELATIVE_TOLERANCE


def test_fixed_batch_size(tmp_path):
    model = dlfs.models.build("two-layer-net", seed=0)
    proto = onnx.load(str(exporter.export(model, tmp_path / "net.onnx", batch=4)))
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 4


@pytest.mark.parametrize("opset", [11, 13, 17, 21])
def test_opsets(opset, tmp_path):
    rng = np.random.default_rng(2)
    model = dlfs.models.build("vgg-small-bn", init="he", seed=0)
    randomize_batch_norm(model, rng)
    path = exporter.export(model, tmp_path / "vgg.onnx", opset=opset)
    proto = onnx.load(str(path))
    assert [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")] == [opset]
    x = rng.random((2, 1, 28, 28), dtype=np.float32)
    error = max_relative_error(run_onnxruntime(path, x), model.predict(x, normalize=False))
    assert error <= RELATIVE_TOLERANCE


def test_googlenet_aux_exports_the_main_classifier_only(tmp_path):
    aux = dlfs.models.build("googlenet-aux", init="he", seed=0)
    plain = dlfs.models.build("googlenet", init="he", seed=0)
    aux_proto = onnx.load(str(exporter.export(aux, tmp_path / "aux.onnx")))
    plain_proto = onnx.load(str(exporter.export(plain, tmp_path / "plain.onnx")))
    assert [o.name for o in aux_proto.graph.output] == ["logits"]

    # The nodes the logits do not depend on: the two auxiliary heads, their Scale and the losses.
    nodes = {n["name"]: n for n in aux.nodes()}
    needed, pending = set(), [aux.logits_node]
    while pending:
        name = pending.pop()
        if name in nodes and name not in needed:
            needed.add(name)
            pending.extend(nodes[name]["inputs"])
    left_out = set(nodes) - needed
    assert {nodes[n]["type"] for n in left_out} >= {"Scale", "SoftmaxWithLoss", "AvgPool"}
    exported = {n.name for n in aux_proto.graph.node}
    assert not exported & left_out
    initializers = {t.name for t in aux_proto.graph.initializer}
    assert not {name.rsplit(".", 1)[0] for name in initializers} & left_out
    assert not any(n.op_type in ("Mul", "Sum") for n in aux_proto.graph.node)
    # The main path is GoogLeNet's.
    assert sorted(n.op_type for n in aux_proto.graph.node) == \
        sorted(n.op_type for n in plain_proto.graph.node)


@pytest.fixture(scope="module")
def trained_lenet5(tmp_path_factory):
    """A LeNet-5 trained one epoch on 2000 Fashion-MNIST images (standardised pixels)."""
    if not (FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("Fashion-MNIST is not in %s" % FASHION_MNIST)
    out = tmp_path_factory.mktemp("lenet5") / "run"
    return dlfs.fit(model="lenet5", epochs=1, limit_train=2000, data=str(FASHION_MNIST),
                    out=str(out), quiet=True, plot="off", device="cpu")


def raw_test_images(count):
    (_, _), (x_test, _) = dlfs.datasets.load_mnist(FASHION_MNIST, normalize=True, flatten=False)
    return np.ascontiguousarray(x_test[:count], dtype=np.float32)


def run_cli(*args, env=None):
    """`dlfs export ARGS` with the python running these tests."""
    binary = dlfs_binary() or str(REPO / "build" / "dlfs")
    if not os.path.isfile(binary):
        pytest.skip("the dlfs program is not built (cmake --build build --target dlfs)")
    environment = dict(os.environ, DLFS_PYTHON=sys.executable)
    environment.update(env or {})
    return subprocess.run([binary, "export"] + [str(a) for a in args], capture_output=True,
                          text=True, env=environment, timeout=300)


def test_trained_lenet5_through_the_cli_folds_the_normalization(trained_lenet5, tmp_path):
    out = tmp_path / "lenet5.onnx"
    result = run_cli("--checkpoint", trained_lenet5.checkpoint, "--onnx", out)
    assert result.returncode == 0, result.stderr
    proto = onnx.load(str(out))
    assert result.stdout == "wrote %s (lenet5, %d nodes, opset 17)\n" % (out, len(proto.graph.node))
    print(result.stdout.strip())

    model = dlfs.models.load(trained_lenet5.checkpoint)
    assert (model.normalize_mean, model.normalize_std) != (0.0, 1.0)
    assert [n.op_type for n in proto.graph.node[:2]] == ["Sub", "Div"]
    metadata = {p.key: p.value for p in proto.metadata_props}
    assert metadata["dlfs_normalization"].startswith("folded")
    assert float(metadata["dlfs_normalize_mean"]) == pytest.approx(model.normalize_mean)
    assert float(metadata["dlfs_normalize_std"]) == pytest.approx(model.normalize_std)

    x = raw_test_images(256)  # pixels in [0, 1], as they come
    want = model.predict(x)   # standardised as the training run did
    got = run_onnxruntime(out, x)
    error = max_relative_error(got, want)
    print("trained lenet5, normalization folded, 256 test images: max relative error %.2e" %
          error)
    assert error <= RELATIVE_TOLERANCE
    assert np.array_equal(np.argmax(got, axis=1), np.argmax(want, axis=1))


def test_normalization_left_to_the_caller_is_in_the_metadata(trained_lenet5, tmp_path):
    model = dlfs.models.load(trained_lenet5.checkpoint)
    path = exporter.export(model, tmp_path / "lenet5.onnx", fold_normalization=False)
    proto = onnx.load(str(path))
    assert "Sub" not in {n.op_type for n in proto.graph.node}
    metadata = {p.key: p.value for p in proto.metadata_props}
    assert metadata["dlfs_normalization"].startswith("not folded")
    mean = np.float32(metadata["dlfs_normalize_mean"])
    std = np.float32(metadata["dlfs_normalize_std"])
    x = raw_test_images(64)
    error = max_relative_error(run_onnxruntime(path, (x - mean) / std), model.predict(x))
    assert error <= RELATIVE_TOLERANCE


def run_module(*args):
    """python -m dlfs.onnx ARGS, importing the dlfs package these tests import."""
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(dlfs.__file__)))
    python_path = os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "dlfs.onnx"] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=python_path))


def test_python_module_main(tmp_path):
    checkpoint = tmp_path / "model.safetensors"
    dlfs.models.build("simple-convnet", seed=0).save(checkpoint)
    out = tmp_path / "net.onnx"
    result = run_module("--checkpoint", checkpoint, "--onnx", out, "--opset", 13)
    assert result.returncode == 0, result.stderr
    nodes = len(onnx.load(str(out)).graph.node)
    assert result.stdout == "wrote %s (simple-convnet, %d nodes, opset 13)\n" % (out, nodes)


def test_missing_checkpoint_is_one_sentence(tmp_path):
    missing = tmp_path / "missing.safetensors"
    expected = "dlfs export: Checkpoint '%s' does not exist.\n" % missing
    module = run_module("--checkpoint", missing, "--onnx", tmp_path / "x.onnx")
    assert (module.returncode, module.stderr, module.stdout) == (2, expected, "")
    cli = run_cli("--checkpoint", missing, "--onnx", tmp_path / "x.onnx")
    assert (cli.returncode, cli.stderr, cli.stdout) == (2, expected, "")
    assert not (tmp_path / "x.onnx").exists()
    with pytest.raises(ValueError, match="does not exist"):
        dlfs.models.load(missing)


def test_unwritable_output_is_one_sentence(tmp_path):
    checkpoint = tmp_path / "model.safetensors"
    dlfs.models.build("two-layer-net", seed=0).save(checkpoint)
    out = tmp_path / "no-such-folder" / "x.onnx"
    cli = run_cli("--checkpoint", checkpoint, "--onnx", out)
    assert cli.returncode == 2
    assert cli.stderr == "dlfs export: cannot write %s: No such file or directory\n" % out


def test_cli_without_python_or_onnx(tmp_path):
    checkpoint = tmp_path / "model.safetensors"
    dlfs.models.build("two-layer-net", seed=0).save(checkpoint)
    args = ("--checkpoint", checkpoint, "--onnx", tmp_path / "x.onnx")

    no_python = run_cli(*args, "--python", tmp_path / "no-python")
    assert no_python.returncode == 2
    assert no_python.stderr == ("dlfs export: python '%s' cannot be started; name one with "
                                "--python PATH or DLFS_PYTHON\n" % (tmp_path / "no-python"))

    blocker = tmp_path / "blocker"  # an onnx module that fails to import, first on the path
    blocker.mkdir()
    (blocker / "onnx.py").write_text("raise ImportError('blocked by the test')\n")
    no_onnx = run_cli(*args, env={"PYTHONPATH": str(blocker)})
    assert no_onnx.returncode == 2
    assert no_onnx.stderr == ("dlfs export: %s has no onnx package, which dlfs export needs "
                              "(pip install onnx)\n" % sys.executable)

    bad_opset = run_cli(*args, "--opset", "7")
    assert bad_opset.returncode == 2
    assert bad_opset.stderr.startswith("dlfs export: opset 7 is not supported: choose one from 11")


def test_export_without_onnx_is_a_value_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx raises ImportError
    with pytest.raises(ValueError, match=r"the onnx package is not installed \(pip install onnx\)"):
        exporter.export(dlfs.models.build("two-layer-net"), tmp_path / "x.onnx")


class GraphModel:
    """What export() reads of a model, for graphs the catalog does not build."""

    def __init__(self, nodes, state, logits_node, input_shape=(3, 8, 8), classes=4):
        self._nodes = nodes
        self._state = state
        self.logits_node = logits_node
        self.input_shape = input_shape
        self.classes = classes
        self.name, self.variant = "synthetic", "8"

    def nodes(self):
        return self._nodes + [{"name": "loss", "type": "SoftmaxWithLoss",
                               "inputs": [self.logits_node, "labels"], "attributes": {}}]

    def state_dict(self):
        return dict(self._state)


def node(name, kind, inputs, **attributes):
    return {"name": name, "type": kind, "inputs": list(inputs), "attributes": attributes}


def test_unknown_layer_type_names_the_node(tmp_path):
    model = GraphModel([node("warp", "Warp", ["input"]), node("flat", "Flatten", ["warp"])], {},
                       "flat")
    with pytest.raises(ValueError, match="node 'warp' has layer type 'Warp'"):
        exporter.export(model, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_even_lrn_is_refused(tmp_path):
    model = GraphModel([node("lrn", "LRN", ["input"], size=4, alpha=1e-4, beta=0.75, k=1.0),
                        node("flat", "Flatten", ["lrn"])], {}, "flat")
    with pytest.raises(ValueError, match="node 'lrn' is an LRN of even size 4"):
        exporter.export(model, tmp_path / "x.onnx")


def test_layers_no_catalog_model_exports(tmp_path):
    """LRN, Sigmoid, Tanh, padded AvgPool, Scale, a 3-way Add, a bias-free convolution, an Affine
    on a 4-D input and a Dropout as the logits node, against PyTorch's definitions (which dlfs's
    layers follow: layers/lrn.hpp, layers/avg_pool.hpp)."""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (the reference)")
    F = torch.nn.functional
    rng = np.random.default_rng(3)
    state = {
        "conv.weight": rng.normal(0, 0.3, (6, 3, 3, 3)).astype(np.float32),
        "fc.weight": rng.normal(0, 0.1, (4, 6 * 4 * 4 * 2)).astype(np.float32),
        "fc.bias": rng.normal(0, 0.1, 4).astype(np.float32),
    }
    nodes = [
        node("conv", "Convolution", ["input"], in_channels=3, out_channels=6, kernel=[3, 3],
             stride=[1, 1], padding=[1, 1], dilation=[1, 1], bias=False),
        node("lrn", "LRN", ["conv"], size=3, alpha=0.1, beta=0.75, k=2.0),
        node("sigmoid", "Sigmoid", ["lrn"]),
        node("tanh", "Tanh", ["conv"]),
        node("scale", "Scale", ["tanh"], factor=0.3),
        node("sum", "Add", ["sigmoid", "scale", "conv"]),
        node("pool", "AvgPool", ["sum"], kernel=[3, 3], stride=[2, 2], padding=[1, 1],
             count_include_pad=True),
        node("maxpool", "MaxPool", ["sum"], kernel=[2, 2], stride=[2, 2], padding=[0, 0]),
        node("concat", "Concat", ["pool", "maxpool"], axis=1),
        node("fc", "Affine", ["concat"], in_features=6 * 4 * 4 * 2, out_features=4),
        node("drop", "Dropout", ["fc"], p=0.5),
    ]
    model = GraphModel(nodes, state, "drop")
    path = exporter.export(model, tmp_path / "synthetic.onnx")
    assert [n.op_type for n in onnx.load(str(path)).graph.node].count("Sum") == 1

    x = rng.random((2, 3, 8, 8), dtype=np.float32)
    with torch.no_grad():
        t = {k: torch.from_numpy(v) for k, v in state.items()}
        conv = F.conv2d(torch.from_numpy(x), t["conv.weight"], padding=1)
        lrn = F.local_response_norm(conv, 3, alpha=0.1, beta=0.75, k=2.0)
        total = torch.sigmoid(lrn) + 0.3 * torch.tanh(conv) + conv
        pooled = torch.cat([F.avg_pool2d(total, 3, 2, 1, count_include_pad=True),
                            F.max_pool2d(total, 2, 2)], dim=1)
        want = F.linear(pooled.flatten(1), t["fc.weight"], t["fc.bias"]).numpy()
    assert max_relative_error(run_onnxruntime(path, x), want) <= RELATIVE_TOLERANCE


def test_batch_norm_on_features_and_global_pooling(tmp_path):
    """BatchNorm of [N, F] (BatchNorm1d) and of [N, C, H, W], GlobalAvgPool to [N, C, 1, 1]."""
    rng = np.random.default_rng(4)
    state = {}
    for name, features in (("bn2d", 3), ("bn1d", 3)):
        state[name + ".weight"] = rng.uniform(0.5, 1.5, features).astype(np.float32)
        state[name + ".bias"] = rng.normal(0, 0.2, features).astype(np.float32)
        state[name + ".running_mean"] = rng.normal(0, 0.2, features).astype(np.float32)
        state[name + ".running_var"] = rng.uniform(0.5, 2.0, features).astype(np.float32)
        state[name + ".num_batches_tracked"] = np.array(7, dtype=np.int64)
    state["fc.weight"] = rng.normal(0, 0.5, (4, 3)).astype(np.float32)
    state["fc.bias"] = rng.normal(0, 0.1, 4).astype(np.float32)
    nodes = [node("bn2d", "BatchNorm", ["input"], num_features=3, eps=1e-5, momentum=0.1),
             node("gap", "GlobalAvgPool", ["bn2d"]),
             node("flat", "Flatten", ["gap"]),
             node("bn1d", "BatchNorm", ["flat"], num_features=3, eps=1e-3, momentum=0.1),
             node("fc", "Affine", ["bn1d"], in_features=3, out_features=4)]
    path = exporter.export(GraphModel(nodes, state, "fc"), tmp_path / "bn.onnx")
    initializers = {t.name for t in onnx.load(str(path)).graph.initializer}
    assert "bn1d.num_batches_tracked" not in initializers

    def batch_norm(v, name, eps):
        shape = (1, -1) + (1,) * (v.ndim - 2)
        s = {k: state[name + "." + k].astype(np.float64).reshape(shape)
             for k in ("weight", "bias", "running_mean", "running_var")}
        return (v - s["running_mean"]) / np.sqrt(s["running_var"] + eps) * s["weight"] + s["bias"]

    x = rng.random((2, 3, 8, 8), dtype=np.float32)
    features = batch_norm(batch_norm(x, "bn2d", 1e-5).mean(axis=(2, 3)), "bn1d", 1e-3)
    want = features @ state["fc.weight"].T.astype(np.float64) + state["fc.bias"]
    assert max_relative_error(run_onnxruntime(path, x), want) <= RELATIVE_TOLERANCE

