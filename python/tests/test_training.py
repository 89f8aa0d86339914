"""dlfs.fit and dlfs.evaluate: the dlfs train and eval commands in this process, their files read
back as Python values, their errors as exceptions, Ctrl-C as KeyboardInterrupt, and the GIL let go
while they work."""
import os
import signal
import threading
import time

import pytest

import dlfs

# The CPU unless a test says otherwise: on the emulated CUDA device ("auto" picks it) training
# runs at the speed of one CPU thread.
QUICK = dict(data="synthetic", limit_train=600, quiet=True, plot="off", device="cpu")


def test_fit_returns_the_run_as_python_values(in_tmp):
    result = dlfs.fit(model="lenet5", epochs=2, **QUICK)
    assert result.out == "runs/lenet5"
    assert len(result.history) == 2
    assert [row["epoch"] for row in result.history] == [1, 2]
    assert result.summary["model"] == "lenet5" and result.summary["epochs"] == 2
    assert 0.5 < result.test_accuracy <= 1.0  # synthetic blobs are easy
    assert os.path.isfile(result.checkpoint) and os.path.isfile(result.state)
    # The CLI's defaults: batch 64, Adam, cosine schedule, seed 0.
    assert result.summary["batch_size"] == 64 and result.summary["optimizer"] == "Adam"
    again = dlfs.fit(model="lenet5", epochs=2, **QUICK)
    assert again.out == "runs/lenet5-2"  # never over another run
    timing = ("images_per_second", "seconds")
    figures = [[v for k, v in row.items() if k not in timing] for row in result.history]
    assert figures == [[v for k, v in row.items() if k not in timing] for row in again.history]


def test_fit_on_each_device(in_tmp, device):
    result = dlfs.fit(model="mlp", epochs=1, **dict(QUICK, device=device, limit_train=300))
    assert result.summary["device"] == ("cpu" if device == "cpu" else "cuda:0")
    assert result.test_accuracy > 0.5


def test_evaluate_agrees_with_the_run(in_tmp):
    result = dlfs.fit(model="mlp", epochs=1, **QUICK)
    figures = dlfs.evaluate(result.checkpoint, data="synthetic", device="cpu")
    assert figures["model"] == "mlp" and figures["images"] == 500
    assert figures["test_accuracy"] == pytest.approx(result.test_accuracy, abs=1e-12)
    model = result.load_model()
    assert model.name == "mlp"


def test_keep_best_points_the_checkpoint_at_the_tested_weights(in_tmp):
    # SGD at a constant 0.1 on these blobs peaks on validation before its last epoch.
    result = dlfs.fit(model="mlp", epochs=6, keep="best", optimizer="sgd", lr=0.1,
                      schedule="constant", **dict(QUICK, limit_train=2000))
    best = result.summary["best_validation_epoch"]
    assert result.summary["tested_weights"] == "best"
    assert 1 <= best < 6
    assert max(row["val_accuracy"] for row in result.history) == result.history[best - 1][
        "val_accuracy"]
    assert result.checkpoint.endswith("best.safetensors")
    figures = dlfs.evaluate(result.checkpoint, data="synthetic", device="cpu")
    assert figures["test_accuracy"] == pytest.approx(result.test_accuracy, abs=1e-12)
    last = dlfs.evaluate(os.path.join(result.out, "model.safetensors"), data="synthetic",
                         device="cpu")
    assert (last["test_accuracy"], last["test_loss"]) != (figures["test_accuracy"],
                                                          figures["test_loss"])


def test_trainer_keeps_options(in_tmp):
    trainer = dlfs.Trainer(model="mlp", epochs=1, **QUICK)
    a, b = trainer.fit(seed=1), trainer.fit(seed=2, out="other")
    assert a.summary["seed"] == 1 and b.summary["seed"] == 2 and b.out == "other"


def test_bad_options_are_value_errors_with_the_commands_message(in_tmp):
    with pytest.raises(ValueError, match="--epochs"):
        dlfs.fit(model="lenet5", epochs=0, **QUICK)
    with pytest.raises(ValueError, match="unknown option '--no-such-option'"):
        dlfs.fit(model="lenet5", no_such_option=3, **QUICK)
    with pytest.raises(ValueError, match="/no/such/dir"):
        dlfs.fit(model="lenet5", data="/no/such/dir", quiet=True)
    with pytest.raises(ValueError, match="missing.safetensors. does not exist"):
        dlfs.evaluate("missing.safetensors")


def test_ctrl_c_stops_saves_and_resumes(in_tmp):
    def interrupt_soon():
        time.sleep(1.5)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_soon, daemon=True).start()
    with pytest.raises(KeyboardInterrupt, match="train_state.safetensors"):
        dlfs.fit(model="resnet20", epochs=50, out="stopped", **QUICK)
    assert os.path.isfile("stopped/train_state.safetensors")
    # Python's own Ctrl-C handling is back.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    # How many epochs ended before the interrupt depends on the machine's speed (none on a slow
    # one, two on a fast one): the resumed run goes one epoch further and keeps their rows.
    done = 0
    if os.path.isfile("stopped/metrics.csv"):
        with open("stopped/metrics.csv") as metrics:
            done = len(metrics.read().splitlines()) - 1  # less the header
    resumed = dlfs.fit(resume="stopped/train_state.safetensors", epochs=done + 1, quiet=True,
                       plot="off", device="cpu")
    assert resumed.out == "stopped"
    assert [row["epoch"] for row in resumed.history] == list(range(1, done + 2))


def test_fit_lets_other_python_threads_run(in_tmp):
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(1)
            time.sleep(0.01)

    counter = threading.Thread(target=count)
    counter.start()
    start = time.time()
    dlfs.fit(model="lenet5", epochs=2, **QUICK)
    elapsed = time.time() - start
    done.set()
    counter.join()
    # With the GIL held for the whole run the counter would stop; it ticks every 10 ms.
    assert len(ticks) > 0.3 * elapsed / 0.01, (len(ticks), elapsed)
