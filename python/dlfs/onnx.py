"""ONNX export of a dlfs model's inference graph (docs/onnx.md).

    model = dlfs.models.load("runs/lenet5/model.safetensors")
    dlfs.onnx.export(model, "lenet5.onnx")      # input "input" [N, C, H, W], output "logits"

or from a shell: python -m dlfs.onnx --checkpoint F --onnx OUT.onnx [--opset N], which is what
`dlfs export` runs. The graph is the part of the model that the logits depend on (GoogLeNet's
auxiliary classifiers and the loss stay out), in inference mode: BatchNorm with its running
statistics, Dropout removed. Weights are initializers named as in the model's state_dict.
"""
import argparse
import sys

import numpy as np

MIN_OPSET = 11  # the oldest one tested; pooling has ceil_mode from 10, its pads rules from 11
GRAPH_INPUTS = ("input", "labels")


def _onnx():
    """The onnx package, or a ValueError that says how to get it."""
    try:
        import onnx  # with onnx.helper, onnx.numpy_helper and onnx.checker
    except ImportError as e:
        raise ValueError("the onnx package is not installed (pip install onnx): %s" % e) from None
    return onnx


def _pair(values, what, node):
    values = [int(v) for v in values]
    if len(values) != 2:
        raise ValueError("node '%s' has %s %s; ONNX export expects two values" %
                         (node["name"], what, values))
    return values


def _inference_nodes(model):
    """The nodes the logits node depends on, in the model's topological order."""
    nodes = model.nodes()
    by_name = {n["name"]: n for n in nodes}
    logits = model.logits_node
    if logits not in by_name:
        raise ValueError("the model's logits node '%s' is not in its graph" % logits)
    needed, pending = set(), [logits]
    while pending:
        name = pending.pop()
        if name in needed or name in GRAPH_INPUTS:
            continue
        if name not in by_name:
            raise ValueError("a node reads '%s', which is neither a node nor a graph input" % name)
        needed.add(name)
        pending.extend(by_name[name]["inputs"])
    for n in nodes:
        if n["name"] in needed and "labels" in n["inputs"]:
            raise ValueError("node '%s' (%s) reads the labels; the logits must not depend on them"
                             % (n["name"], n["type"]))
    return [n for n in nodes if n["name"] in needed]


class _GraphBuilder:
    """ONNX nodes and initializers, with each dlfs node's output tensor name and rank."""

    def __init__(self, onnx, state):
        self.onnx = onnx
        self.state = state
        self.nodes = []
        self.initializers = {}
        self.tensor = {}  # dlfs node name -> the ONNX tensor holding its output
        self.rank = {}    # ONNX tensor name -> its rank

    def initializer(self, name, node=None):
        """The state_dict entry `name` as an initializer (once, float32)."""
        if name not in self.initializers:
            if name not in self.state:
                raise ValueError("node '%s' needs '%s', which the model's state_dict lacks" %
                                 (node["name"] if node else "?", name))
            self.initializers[name] = self.onnx.numpy_helper.from_array(
                np.ascontiguousarray(self.state[name], dtype=np.float32), name)
        return name

    def constant(self, name, value):
        """A float32 scalar initializer that is not a model parameter."""
        self.initializers[name] = self.onnx.numpy_helper.from_array(
            np.array(value, dtype=np.float32), name)
        return name

    def add(self, op, inputs, output, rank, name=None, **attributes):
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [output], name=name or output,
                                                     **attributes))
        self.rank[output] = rank
        return output


def _check_rank(builder, node, tensor, ranks):
    if builder.rank[tensor] not in ranks:
        raise ValueError("node '%s' (%s) has a %d-D input; ONNX export handles %s-D" % (
            node["name"], node["type"], builder.rank[tensor], " or ".join(map(str, ranks))))


def _emit(builder, node, inputs, output):
    """The ONNX nodes for one dlfs node, whose inputs are the ONNX tensors `inputs`."""
    kind, name, a = node["type"], node["name"], node["attributes"]
    x = inputs[0] if inputs else None
    if kind in ("ReLU", "Sigmoid", "Tanh"):
        op = {"ReLU": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh"}[kind]
        return builder.add(op, [x], output, builder.rank[x])
    if kind == "Convolution":
        _check_rank(builder, node, x, (4,))
        weight = builder.initializer(name + ".weight", node)
        in_per_group = builder.state[weight].shape[1]
        group = int(a["in_channels"]) // in_per_group
        args = [x, weight] + ([builder.initializer(name + ".bias", node)] if a["bias"] else [])
        ph, pw = _pair(a["padding"], "padding", node)
        return builder.add("Conv", args, output, 4, name=name,
                           kernel_shape=_pair(a["kernel"], "kernel", node),
                           strides=_pair(a["stride"], "stride", node), pads=[ph, pw, ph, pw],
                           dilations=_pair(a["dilation"], "dilation", node), group=group)
    if kind in ("MaxPool", "AvgPool"):
        _check_rank(builder, node, x, (4,))
        ph, pw = _pair(a["padding"], "padding", node)
        window = dict(kernel_shape=_pair(a["kernel"], "kernel", node),
                      strides=_pair(a["stride"], "stride", node), pads=[ph, pw, ph, pw],
                      ceil_mode=0)
        if kind == "MaxPool":
            return builder.add("MaxPool", [x], output, 4, name=name, **window)
        return builder.add("AveragePool", [x], output, 4, name=name,
                           count_include_pad=int(a.get("count_include_pad", True)), **window)
    if kind == "GlobalAvgPool":  # [N, C, H, W] -> [N, C, 1, 1], as layers/global_avg_pool.hpp
        _check_rank(builder, node, x, (4,))
        return builder.add("GlobalAveragePool", [x], output, 4, name=name)
    if kind == "BatchNorm":
        # Running statistics: inference mode. BatchNormalization takes [N, C] as well as
        # [N, C, H, W] (its C is axis 1 either way), as BatchNorm1d and BatchNorm2d.
        _check_rank(builder, node, x, (2, 4))
        args = [x] + [builder.initializer(name + suffix, node)
                      for suffix in (".weight", ".bias", ".running_mean", ".running_var")]
        return builder.add("BatchNormalization", args, output, builder.rank[x], name=name,
                           epsilon=float(a["eps"]), momentum=float(1.0 - a["momentum"]))
    if kind == "LRN":
        size = int(a["size"])
        if size % 2 == 0:
            # dlfs (as PyTorch) sums channels c - size/2 .. c + size/2 - 1, ONNX c - size/2 + 1
            # .. c + size/2: the same window only for an odd size.
            raise ValueError("node '%s' is an LRN of even size %d, whose channel window ONNX's "
                             "LRN centres differently" % (name, size))
        return builder.add("LRN", [x], output, builder.rank[x], name=name, size=size,
                           alpha=float(a["alpha"]), beta=float(a["beta"]), bias=float(a["k"]))
    if kind == "Flatten":  # [N, ...] -> [N, -1], as layers/flatten.hpp
        return builder.add("Flatten", [x], output, 2, name=name, axis=1)
    if kind == "Affine":  # y = x W^T + b on x flattened to [N, in_features]
        if builder.rank[x] != 2:
            x = builder.add("Flatten", [x], name + ".flatten", 2, axis=1)
        args = [x, builder.initializer(name + ".weight", node),
                builder.initializer(name + ".bias", node)]
        return builder.add("Gemm", args, output, 2, name=name, transB=1)
    if kind == "Scale":
        factor = builder.constant(name + ".factor", float(a["factor"]))
        return builder.add("Mul", [x, factor], output, builder.rank[x], name=name)
    if kind == "Concat":
        return builder.add("Concat", list(inputs), output, builder.rank[x], name=name,
                           axis=int(a.get("axis", 1)))
    if kind == "Add":
        op = "Add" if len(inputs) == 2 else "Sum"
        return builder.add(op, list(inputs), output, max(builder.rank[i] for i in inputs),
                           name=name)
    raise ValueError("node '%s' has layer type '%s', which ONNX export does not know" %
                     (name, kind))


def _normalization(model):
    mean = float(getattr(model, "normalize_mean", 0.0))
    std = float(getattr(model, "normalize_std", 1.0))
    return mean, std


def make_model(model, opset=17, batch="N", fold_normalization=True):
    """The onnx.ModelProto of `model`'s inference graph (export() writes it)."""
    onnx = _onnx()
    opset = int(opset)
    latest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= latest:
        raise ValueError("opset %d is not supported: choose one from %d to %d" %
                         (opset, MIN_OPSET, latest))
    if isinstance(batch, (int, np.integer)) and not isinstance(batch, bool) and batch < 1:
        raise ValueError("batch must be a dimension name or a positive size, not %r" % batch)

    nodes = _inference_nodes(model)
    builder = _GraphBuilder(onnx, model.state_dict())
    input_tensor = "input"
    builder.rank[input_tensor] = 4

    mean, std = _normalization(model)
    identity = mean == 0.0 and std == 1.0
    metadata = {
        "dlfs_model": str(model.name),
        "dlfs_variant": str(model.variant),
        "dlfs_classes": str(int(model.classes)),
        "dlfs_opset": str(opset),
        "dlfs_version": _dlfs_version(),
    }
    if not identity:
        metadata["dlfs_normalize_mean"] = repr(mean)
        metadata["dlfs_normalize_std"] = repr(std)
        if fold_normalization:
            metadata["dlfs_normalization"] = "folded: the graph takes pixels in [0, 1]"
            # (x - mean) / std in float32, as model.predict(x) standardises.
            mean_tensor = builder.constant("dlfs_normalize_mean", mean)
            std_tensor = builder.constant("dlfs_normalize_std", std)
            centred = builder.add("Sub", [input_tensor, mean_tensor], "input_centred", 4,
                                  name="normalize_mean")
            input_tensor = builder.add("Div", [centred, std_tensor], "input_normalized", 4,
                                       name="normalize_std")
        else:
            metadata["dlfs_normalization"] = (
                "not folded: feed (pixels - dlfs_normalize_mean) / dlfs_normalize_std")
    else:
        metadata["dlfs_normalization"] = "none"

    builder.tensor["input"] = input_tensor
    # Dropout is the identity at inference: its output is its input's tensor. The node whose
    # output the logits are writes "logits" directly.
    logits_source = model.logits_node
    by_name = {n["name"]: n for n in nodes}
    while by_name[logits_source]["type"] == "Dropout":
        logits_source = by_name[logits_source]["inputs"][0]
        if logits_source not in by_name:
            break
    for node in nodes:
        inputs = [builder.tensor[i] for i in node["inputs"]]
        if node["type"] == "Dropout":
            builder.tensor[node["name"]] = inputs[0]
            continue
        output = "logits" if node["name"] == logits_source else node["name"]
        builder.tensor[node["name"]] = _emit(builder, node, inputs, output)
    logits = builder.tensor[model.logits_node]
    if logits != "logits":  # the logits are the input itself (a graph of Dropouts only)
        builder.add("Identity", [logits], "logits", builder.rank[logits])
    if builder.rank["logits"] != 2:
        raise ValueError("the logits node '%s' gives a %d-D output; ONNX export expects "
                         "[N, classes]" % (model.logits_node, builder.rank["logits"]))

    channels, height, width = (int(d) for d in model.input_shape)
    graph = onnx.helper.make_graph(
        builder.nodes, str(model.name),
        [onnx.helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT,
                                            [batch, channels, height, width])],
        [onnx.helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT,
                                            [batch, int(model.classes)])],
        initializer=list(builder.initializers.values()))
    proto = onnx.helper.make_model_gen_version(
        graph, opset_imports=[onnx.helper.make_opsetid("", opset)], producer_name="dlfs",
        producer_version=_dlfs_version(),
        doc_string="dlfs %s (%s), inference graph" % (model.name, model.variant))
    onnx.helper.set_model_props(proto, metadata)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def export(model, path, opset=17, batch="N", fold_normalization=True):
    """Writes `model`'s inference graph to `path` as ONNX and returns the path.

    The graph takes float32 "input" [batch, C, H, W] (batch a dimension name: any size) and
    gives "logits" [batch, classes]. With fold_normalization, a checkpoint's pixel
    standardisation is the graph's first two nodes (Sub, Div): it takes pixels in [0, 1] as
    model.predict(x) does; without, the graph is model.predict(x, normalize=False) and the mean
    and std are in the metadata. Raises ValueError for what ONNX export cannot express.
    """
    onnx = _onnx()
    proto = make_model(model, opset=opset, batch=batch, fold_normalization=fold_normalization)
    onnx.save_model(proto, str(path))
    return path


def _dlfs_version():
    from . import __version__
    return str(__version__)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="dlfs export",
        description="Writes a dlfs checkpoint's inference graph as an ONNX model.")
    parser.add_argument("--checkpoint", required=True, metavar="FILE",
                        help="a dlfs checkpoint (the model.safetensors of a dlfs train run)")
    parser.add_argument("--onnx", required=True, metavar="OUT", help="the ONNX file to write")
    parser.add_argument("--opset", type=int, default=17, metavar="N",
                        help="the ONNX opset (default 17)")
    args = parser.parse_args(argv)
    try:
        from . import models
        model = models.load(args.checkpoint)
        proto = make_model(model, opset=args.opset)
        _onnx().save_model(proto, args.onnx)
    except ValueError as e:
        print("dlfs export: %s" % e, file=sys.stderr)
        return 2
    except OSError as e:
        print("dlfs export: cannot write %s: %s" % (args.onnx, e.strerror or e), file=sys.stderr)
        return 2
    print("wrote %s (%s, %d nodes, opset %d)" % (args.onnx, model.name, len(proto.graph.node),
                                                args.opset))
    return 0


if __name__ == "__main__":
    sys.exit(main())
