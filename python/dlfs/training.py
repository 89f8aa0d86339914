"""dlfs.fit and dlfs.evaluate: the `dlfs train` and `dlfs eval` commands, run in this process.

fit takes the command's options as keyword arguments (underscores for dashes: batch_size=128 is
--batch-size 128; True turns a flag on), so the defaults, the progress bar, the run folder and
its files (metrics.csv, summary.json, model.safetensors, train_state.safetensors, curves.png)
are the command's own. `dlfs train --help` lists every option.

    result = dlfs.fit(model="lenet5", epochs=5)
    result.test_accuracy, result.history[-1]["val_accuracy"], result.checkpoint

Ctrl-C stops after the current batch, saves the state (resume=result.state) and raises
KeyboardInterrupt, as the command stops with "continue with: dlfs train --resume ...".
"""
import csv
import json
import os

from . import _core
from . import models as _models


def _option_arguments(options):
    args = []
    for name, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            args.append(flag)
        else:
            args += [flag, str(value)]
    return args


def _number(text):
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text else value


class FitResult:
    """What a training run left in its folder, read back as Python values."""

    def __init__(self, out):
        self.out = out
        with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
            self.summary = json.load(f)
        with open(os.path.join(out, "metrics.csv"), encoding="utf-8", newline="") as f:
            self.history = [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(f)]

    test_accuracy = property(lambda self: self.summary["test_accuracy"])
    test_loss = property(lambda self: self.summary["test_loss"])
    # The weights the run tested: the last epoch's, or with keep="best" the best epoch's on
    # validation (best.safetensors).
    checkpoint = property(lambda self: os.path.join(
        self.out, "best.safetensors" if self.summary.get("tested_weights") == "best"
        else "model.safetensors"))
    state = property(lambda self: os.path.join(self.out, "train_state.safetensors"))

    def load_model(self, device="cpu"):
        """The trained model whose test figures the run reports (see checkpoint)."""
        return _models.load(self.checkpoint, device)

    def __repr__(self):
        return "dlfs.FitResult(%s: test accuracy %.4f after %d epochs)" % (
            self.out, self.test_accuracy, len(self.history))


def fit(model="simple-convnet", **options):
    """Trains `model` as `dlfs train --model MODEL [options]` would; returns its FitResult.

    Without out=..., the run goes to the first free runs/MODEL[-N], as the command's does.
    Bad options raise ValueError with the command's message.
    """
    if "resume" in options and options["resume"]:
        out = options.get("out") or os.path.dirname(str(options["resume"])) or "."
    else:
        out = options.get("out") or _core.next_free_run_folder("runs/" + str(model))
        options = dict(options, model=model)
    options["out"] = out
    status = _core.train_command(["dlfs", "train"] + _option_arguments(options))
    if status == 130 or status == 143:
        raise KeyboardInterrupt("training stopped; its state is in %s" %
                                os.path.join(out, "train_state.safetensors"))
    if status != 0:
        raise RuntimeError("dlfs train ended with status %d" % status)
    if options.get("help"):
        return None
    return FitResult(out)


class Trainer:
    """fit's options kept for several runs: Trainer(model="lenet5", epochs=5).fit(seed=1)."""

    def __init__(self, model="simple-convnet", **options):
        self.model = model
        self.options = options

    def fit(self, **more):
        return fit(self.model, **dict(self.options, **more))


def evaluate(checkpoint, **options):
    """A checkpoint's test accuracy and loss, as `dlfs eval --checkpoint FILE [options]`.

    Returns {"test_accuracy", "test_loss", "images", "model", "device", "checkpoint"}.
    """
    return _core.evaluate_command(["dlfs", "eval", "--checkpoint", str(checkpoint)]
                                  + _option_arguments(options))
