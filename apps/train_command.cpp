// dlfs train: train a model on an MNIST-format dataset, judge it on a validation split, test it
// once at the end, and write metrics.csv, summary.json and model.safetensors.
#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "dlfs/apps/commands.hpp"
#include "dlfs/apps/options.hpp"
#include "dlfs/apps/run_curves.hpp"
#include "dlfs/apps/run_setup.hpp"
#include "dlfs/comm/world.hpp"
#include "dlfs/data/augment.hpp"
#include "dlfs/data/mnist_format.hpp"
#include "dlfs/data/normalization.hpp"
#include "dlfs/data/validation_split.hpp"
#include "dlfs/layers/batch_norm.hpp"
#include "dlfs/models/catalog.hpp"
#include "dlfs/models/checkpoint.hpp"
#include "dlfs/models/dropout_streams.hpp"
#include "dlfs/models/init.hpp"
#include "dlfs/optim/make_optimizer.hpp"
#include "dlfs/optim/schedule.hpp"
#include "dlfs/runtime/device_pools.hpp"
#include "dlfs/runtime/json_writer.hpp"
#include "dlfs/train/data_parallel.hpp"
#include "dlfs/train/epoch_commit.hpp"
#include "dlfs/train/interrupt.hpp"
#include "dlfs/train/metrics_log.hpp"
#include "dlfs/train/run_folder.hpp"
#include "dlfs/train/trainer.hpp"
#include "dlfs/train/training_state.hpp"

namespace dlfs::app {

namespace {

void declare_options(Options& o) {
  o.add("model", "NAME", "model to train (see dlfs models)", "simple-convnet");
  o.add("data", "DIR", "directory with the four MNIST-format files, or 'synthetic'",
        data::kDefaultMnistDirectory);
  o.add("epochs", "N", "passes over the training split", "10");
  o.add("batch-size", "N", "mini-batch size", "64");
  o.add("optimizer", "NAME", "sgd, momentum, nesterov, adagrad, rmsprop or adam", "adam");
  o.add("lr", "X", "learning rate (default: 0.003 for adam, the book's default for the others)");
  // 0.0005 since 2026-12-07 (0 before): four seeds of the default run gave 0.9121-0.9159 with it
  // and 0.9073-0.9132 without (docs/results.md).
  o.add("weight-decay", "X",
        "L2 weight decay lambda (the book's lambda/2 |W|^2), on every parameter", "0.0005");
  o.add("momentum", "X", "momentum for momentum and nesterov", "0.9");
  o.add_flag("pytorch-style", "use PyTorch's update rules instead of the book's");
  o.add("schedule", "SPEC", "learning-rate schedule: constant, step:K[:GAMMA], cosine", "cosine");
  o.add("init", "NAME", "weight init: auto (He), he, xavier, std (0.01)", "auto");
  o.add("device", "NAME", "auto, cpu, cuda or cuda:N", "auto");
  o.add("seed", "N", "seed for initialisation, split, shuffling, dropout and augmentation", "0");
  o.add("val-split", "F", "fraction of the training set held out for validation", "0.1");
  o.add("limit-train", "N", "use only the first N training images (0: all)", "0");
  o.add("classes", "N",
        "number of classes (default: the training labels' largest value + 1, every class used)");
  o.add("shuffle", "on|off", "shuffle the training split each epoch", "on");
  o.add("augment", "SPEC",
        "augment training batches (never validation or test): off, on (= crop:4,flip), or a "
        "comma list of crop:P (pad P zero pixels per side, crop back at a random offset), "
        "flip (mirror half the images) and erase[:p] (zero a random rectangle of 2-33% of the "
        "image with probability p, default 0.5); seeded by --seed",
        "off");
  o.add("normalize", "on|off", "standardise pixels with the training split's mean and std", "on");
  o.add("keep", "last|best",
        "the weights tested at the end: the last epoch's, or the epoch's with the best "
        "validation accuracy (also written to DIR/best.safetensors by rank 0; needs a "
        "validation split)",
        "last");
  o.add("init-from", "FILE",
        "start from the weights in FILE (fine-tuning): a dlfs checkpoint of --model, or its "
        "PyTorch state_dict saved with safetensors (tensors checked by name and shape)");
  o.add("resume", "FILE",
        "continue the run saved in FILE (DIR/train_state.safetensors, written at every epoch's "
        "end and on Ctrl-C) with its settings; --out, --epochs, --lr, --data, --device may "
        "change");
  o.add("out", "DIR",
        "where metrics.csv, summary.json, model.safetensors and train_state.safetensors go",
        "the first of runs/<model>, runs/<model>-2, ... without results (with --resume: FILE's "
        "directory)");
  o.add_flag(
      "overwrite",
      "replace the results of an earlier run in --out (without it such a folder is refused)");
  o.add_flag("quiet", "no progress bar");
  o.add("distributed", "MODE",
        "several processes (see docs/distributed.md): auto (ranks when started by mpirun or "
        "srun: MPI on the CPU, NCCL on GPUs), mpi, nccl, off",
        "auto");
  o.add_flag("sync-bn",
             "with several ranks, BatchNorm normalizes with the whole global batch's statistics "
             "(each rank's own without it); an epoch's last batch is skipped when a rank would "
             "get fewer than 2 of its images");
  o.add("bucket-mb", "X",
        "data-parallel gradient bucket size in MiB (default: 1 for CPU ranks, where 1/16 to 4 "
        "measured the same; 25 for GPUs, where each NCCL call costs latency)");
  o.add("dist-timeout", "S",
        "seconds a rank waits for the others before ending the run (a rank died or hangs)", "300");
  o.add("plot", "on|off",
        "draw DIR/curves.png (loss, accuracy, learning rate) after every epoch and at the end "
        "(needs python3 with matplotlib; training goes on without it)",
        "on");
}

// The options a training state records: those the user gave that shape the run (defaults
// apply again on resume). --overwrite is about one invocation's folder, not the run: recorded,
// a resume would inherit the permission to replace results without being given it.
bool recorded_option(const std::string& name) {
  return name != "resume" && name != "out" && name != "quiet" && name != "plot" &&
         name != "init-from" && name != "overwrite" && name != "distributed" &&
         name != "bucket-mb" && name != "dist-timeout";
}

// Options a resumed run may change; the others must match the run being resumed.
bool changeable_on_resume(const std::string& name) {
  return name == "epochs" || name == "lr" || name == "data" || name == "device";
}

// Options whose declared default has changed, with the default of the states written before:
// a state that does not record such an option ran with that old default. New states record
// these options' values given or not, so a later change of default cannot reach them either.
const std::map<std::string, std::string>& defaults_before_they_were_recorded() {
  static const std::map<std::string, std::string> defaults = {{"weight-decay", "0"}};
  return defaults;
}

std::map<std::string, std::string> recorded_options(const Options& o) {
  std::map<std::string, std::string> out;
  for (const std::string& name : o.names())
    if (recorded_option(name) &&
        (o.given(name) || defaults_before_they_were_recorded().count(name)))
      out[name] = o.text(name);
  return out;
}

// Fills the options from the resumed run's record; a given option that contradicts it is an
// error, unless it is one a resumed run may change.
void apply_resumed_options(Options& o, std::map<std::string, std::string> recorded,
                           const std::string& path) {
  if (o.given("init-from"))
    throw InputError("--init-from and --resume exclude each other: a resumed run has its weights");
  for (const auto& [name, old_default] : defaults_before_they_were_recorded())
    recorded.emplace(name, old_default);  // a state from before: it ran with the old default
  for (const auto& [name, value] : recorded) {
    if (!o.declared(name) || !recorded_option(name)) continue;
    if (o.given(name)) {
      if (o.text(name) != value && !changeable_on_resume(name))
        throw InputError("--" + name + " " + o.text(name) + " differs from the run in " + path +
                         " (" + (value.empty() ? "not given" : value) +
                         "); a resumed run keeps its settings");
      continue;
    }
    o.set(name, value);
  }
  // Options given now that the run did not have: it used their declared defaults, so a given
  // value equal to the default agrees with it, and any other is refused with what the run used.
  for (const std::string& name : o.names()) {
    if (!recorded_option(name) || !o.given(name) || recorded.count(name) ||
        changeable_on_resume(name))
      continue;
    if (o.is_flag(name))
      throw InputError("--" + name + " differs from the run in " + path +
                       " (off, the default then); a resumed run keeps its settings");
    const std::string& then = o.default_text(name);
    if (o.text(name) == then) continue;
    throw InputError("--" + name + " " + o.text(name) + " differs from the run in " + path + " (" +
                     (then.empty() ? std::string("not given") : then + ", the default then") +
                     "); a resumed run keeps its settings");
  }
}

std::string parent_directory(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::int64_t batches_in(std::int64_t images, std::int64_t batch_size) {
  return (images + batch_size - 1) / batch_size;
}

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

}  // namespace

int train_command(int argc, char** argv) {
  Options o("train",
            "Trains a model on Fashion-MNIST (or any MNIST-format directory), reports validation "
            "accuracy each epoch and test accuracy once at the end.");
  declare_options(o);
  if (!o.parse(argc, argv, 2)) return 0;

  // The ranks of a data-parallel run (none for one process). Rank 0 alone prints, writes files
  // and draws; the others train beside it in silence (their errors still go to stderr).
  const std::string distributed = o.choice("distributed", {"auto", "off", "mpi", "nccl"});
  std::unique_ptr<comm::Communicator> communicator =
      comm::start_ranks(distributed, o.real("dist-timeout", 1, 1e6));
  const int rank = communicator ? communicator->rank() : 0;
  const int ranks = communicator ? communicator->world_size() : 1;
  const bool writer = rank == 0;
  if (!writer && !std::freopen("/dev/null", "w", stdout))
    throw Error("rank " + std::to_string(rank) + " could not silence its output");
  if (communicator) comm::divide_cpu_threads(comm::detect_launch());

  // A resumed run takes its settings from the state file.
  const bool resuming = o.given("resume");
  const std::string resume_path = resuming ? o.text("resume") : "";
  SafetensorsContents resume_contents;
  train::TrainingState resumed;
  if (resuming) {
    // A commit cut short by a crash is finished (or undone) first: the state read is a whole
    // set's. Rank 0 does it while the others wait, then every rank reads the same file.
    if (writer) train::recover_epoch_commit(parent_directory(resume_path));
    if (communicator) communicator->barrier("the wait for rank 0 to check " + resume_path);
    resume_contents = load_safetensors(resume_path);
    resumed = train::read_training_state(resume_contents, resume_path);
    if (resumed.ranks != ranks)
      throw InputError(resume_path + " was trained by " + std::to_string(resumed.ranks) +
                       " process" + (resumed.ranks == 1 ? "" : "es") + " and this run has " +
                       std::to_string(ranks) + "; resume it with " +
                       (resumed.ranks == 1 ? std::string("one process")
                                           : "mpirun -np " + std::to_string(resumed.ranks)) +
                       " so that its batches and learning rate stay the same");
    apply_resumed_options(o, resumed.options, resume_path);
    if (!o.given("out")) o.set("out", parent_directory(resume_path));
  }

  const auto wall_start = std::chrono::steady_clock::now();
  RunSetup setup = make_run_setup(o);
  if (communicator) {
    setup.device = comm::rank_device(setup.device, o.text("device").find(':') != std::string::npos,
                                     communicator->local_rank());
  }
  communicator = comm::communicator_for(std::move(communicator), distributed, setup.device);
  const std::int64_t epochs = o.integer("epochs", 1, 1000000);
  const std::int64_t batch_size = setup.batch_size;
  const std::uint64_t seed = setup.seed;
  // Without --out a run takes the first free runs/<model>[-N]: a run never replaces another's
  // results unless told to (--overwrite with --out).
  const std::string default_out = "runs/" + setup.model_name;
  const std::string out_dir =
      o.given("out") ? o.text("out") : train::next_free_run_folder(default_out);
  if (writer && !o.given("out") && train::holds_unfinished_run(default_out))
    std::printf(
        "note: %s holds an unfinished run; continue it with: dlfs train --resume "
        "%s/train_state.safetensors\n",
        default_out.c_str(), default_out.c_str());
  const bool shuffle = o.choice("shuffle", {"on", "off"}) == "on";
  data::AugmentOptions augment = data::parse_augment(o.text("augment"));
  augment.seed = seed;

  optim::OptimizerConfig opt_config;
  opt_config.name = o.text("optimizer");
  // Adam's default is 0.003, not the book's 0.001: with cosine decay and batch 64 it trained
  // LeNet-5 to a better test accuracy in 5 epochs (docs/results.md has the runs).
  if (o.given("lr"))
    opt_config.lr = o.real("lr", 0.0, 1e6);
  else if (opt_config.name == "adam")
    opt_config.lr = 0.003;
  if (o.given("momentum")) opt_config.momentum = o.real("momentum", 0.0, 1.0);
  opt_config.weight_decay = o.real("weight-decay", 0.0, 1e6);
  opt_config.pytorch_style = o.flag("pytorch-style");
  const InitScheme init = parse_init_scheme(o.text("init"));

  // Data: a validation split from the training set; the test set is touched once, at the end.
  data::TrainValidationSplit split =
      data::split_validation(setup.data.train, o.real("val-split", 0.0, 0.99), seed);
  if (split.train.size() == 0) throw InputError("--val-split leaves no training images");
  // --keep best: the epoch is chosen on validation, and its weights are tested.
  const bool keep_best = o.choice("keep", {"last", "best"}) == "best";
  if (keep_best && split.validation.size() == 0)
    throw InputError("--keep best chooses an epoch on validation, and --val-split " +
                     o.text("val-split") + " leaves no validation images");
  // Only rank 0 reads and writes best.safetensors (the others get its weights by broadcast), so
  // on several machines only rank 0's needs it; every rank learns of a missing one and stops.
  if (keep_best && resuming && resumed.best_validation_epoch > 0) {
    bool missing =
        writer && !std::filesystem::exists(parent_directory(resume_path) + "/best.safetensors");
    if (communicator)
      missing =
          communicator->gather_host(missing ? 1 : 0, "the check for best.safetensors").at(0) != 0;
    if (missing)
      throw InputError("the run in " + resume_path + " keeps its best weights, and " +
                       parent_directory(resume_path) + "/best.safetensors (epoch " +
                       std::to_string(resumed.best_validation_epoch) + ") is missing");
  }
  if (o.choice("normalize", {"on", "off"}) == "on") {
    setup.normalization = data::Normalization::fit(split.train);
    for (data::Dataset* d : {&split.train, &split.validation, &setup.data.test})
      if (d->size() > 0) setup.normalization.apply(*d);
  }

  Model model = build_model_for(setup);
  Generator init_gen(seed);
  initialize(model, init, init_gen);
  if (o.given("init-from")) {
    const std::string path = o.text("init-from");
    const SafetensorsContents contents = load_safetensors(path);
    // No dlfs metadata is needed (--model names the model); a dlfs checkpoint of another model
    // is refused by its name rather than by its first tensor that differs.
    check_checkpoint_model(contents.metadata, path, model.name);
    load_weights(model, contents, path);
  }
  // Each rank draws its own dropout masks (rank 0 those of a one-process run).
  seed_dropout(model, seed + 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(rank));
  model.graph.to(setup.device);
  auto optimizer = optim::make_optimizer(opt_config, parameter_pointers(model));
  auto schedule = optim::parse_schedule(o.text("schedule"), optimizer->learning_rate(), epochs);
  if (resuming) train::restore_training_state(resume_contents, resume_path, model, *optimizer);
  resume_contents = SafetensorsContents{};  // its tensors are copied; free the host memory
  // Every rank starts from rank 0's weights (equal by the seed already; this makes it so).
  std::unique_ptr<train::DataParallel> data_parallel;
  if (communicator) {
    const double bucket_mb = o.given("bucket-mb") ? o.real("bucket-mb", 1.0 / 1024, 4096)
                             : communicator->backend() == "nccl" ? 25.0
                                                                 : 1.0;
    data_parallel = std::make_unique<train::DataParallel>(
        *communicator, model, static_cast<std::size_t>(bucket_mb * 1048576.0));
    data_parallel->broadcast_state();
    if (o.flag("sync-bn")) {
      for (const std::string& node : model.graph.order())
        if (auto* bn = dynamic_cast<BatchNorm*>(&model.graph.layer(node)))
          bn->synchronise_statistics([c = communicator.get(), node](std::vector<double>& values) {
            c->sum_host(values, "the sum of " + node + "'s batch statistics");
          });
      data_parallel->set_min_samples_per_rank(2);
    }
  }

  if (writer)
    train::claim_run_folder(
        out_dir, "out", o.flag("overwrite"),
        resuming ? std::optional<std::string>(parent_directory(resume_path)) : std::nullopt);
  // A resumed run's rows come from its own folder, wherever this run writes.
  train::MetricsLog metrics(
      resuming ? parent_directory(resume_path) + "/metrics.csv" : out_dir + "/metrics.csv",
      resuming, resumed.epoch);
  CurvePlotter curves(out_dir, writer && o.choice("plot", {"on", "off"}) == "on");

  std::printf(
      "dlfs train: %s (%lld parameters) on %s; %lld train / %lld validation / %lld test "
      "images; %s, %s; batch %lld, %lld epoch%s\n",
      model.name.c_str(), static_cast<long long>(model.graph.parameter_count()),
      setup.device.str().c_str(), static_cast<long long>(split.train.size()),
      static_cast<long long>(split.validation.size()),
      static_cast<long long>(setup.data.test.size()), optimizer->name().c_str(),
      schedule->describe().c_str(), static_cast<long long>(batch_size),
      static_cast<long long>(epochs), epochs == 1 ? "" : "s");
  if (communicator)
    std::printf("%d ranks (%s): batch %lld per rank, %lld in all; gradients in %zu bucket%s\n",
                ranks, communicator->backend().c_str(), static_cast<long long>(batch_size),
                static_cast<long long>(batch_size * ranks), data_parallel->bucket_sizes().size(),
                data_parallel->bucket_sizes().size() == 1 ? "" : "s");
  if (resuming && resumed.epoch >= epochs)
    std::printf("the run in %s has finished its %lld epoch%s; testing it\n", resume_path.c_str(),
                static_cast<long long>(epochs), epochs == 1 ? "" : "s");
  else if (resuming)
    std::printf("resuming %s at epoch %lld, batch %lld\n", resume_path.c_str(),
                static_cast<long long>(resumed.epoch + 1),
                static_cast<long long>(resumed.progress.batches_done));
  std::fflush(stdout);

  // A data-parallel run's global batch is --batch-size per rank; each rank takes its shard.
  data::BatchIterator batches(split.train, batch_size * ranks, shuffle, seed);
  if (communicator) batches.set_shard(rank, ranks);
  batches.set_augmentation(augment);  // the training split only
  // Checkpoints record the augmentation a run trained with beside the other run settings.
  auto run_metadata = [&](std::int64_t epochs_done) {
    auto metadata = checkpoint_metadata(setup, epochs_done);
    metadata["dlfs_augment"] = data::describe(augment);
    return metadata;
  };
  train::Trainer trainer(model, *optimizer);
  trainer.set_data_parallel(data_parallel.get());
  // Warm-up: the first epoch sees every batch shape once; the second is the first to start while
  // layers still hold the previous epoch's last (partial) batch, a layout the pool meets then and
  // never again. From there on a training step should make no raw allocation.
  const std::int64_t warmup_epochs = epochs > 2 ? 2 : 1;
  PoolCounters after_warmup;
  double images_per_second_sum = resumed.images_per_second_sum;
  double training_seconds = resumed.training_seconds;
  double best_val = resumed.best_validation_accuracy;
  std::int64_t best_epoch = resumed.best_validation_epoch;
  const std::string checkpoint = out_dir + "/model.safetensors";
  const std::string best_checkpoint = out_dir + "/best.safetensors";
  const std::string state_path = out_dir + "/train_state.safetensors";
  const std::int64_t first_epoch = resumed.epoch;
  train::InterruptGuard interrupt_guard;
  const auto epochs_start = std::chrono::steady_clock::now();
  // The share of its first epoch a resumed run had done before it stopped.
  const double resumed_share =
      static_cast<double>(resumed.progress.batches_done) /
      static_cast<double>(std::max<std::int64_t>(1, batches.batches_per_epoch()));
  for (std::int64_t epoch = first_epoch; epoch < epochs; ++epoch) {
    optimizer->set_learning_rate(schedule->at(epoch));
    batches.start_epoch(epoch);
    train::EpochProgress progress;
    if (epoch == first_epoch) progress = resumed.progress;
    batches.skip(progress.batches_done);
    // The epoch's sums so far are the whole run's: one rank carries them, the sum adds the rest.
    if (!writer) progress.loss_sum = 0, progress.correct = 0, progress.samples = 0;
    train::ProgressBar bar("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(epochs),
                           batches.batches_per_epoch(), !o.flag("quiet"));
    train::EpochResult r;
    try {
      r = trainer.train_epoch(batches, epoch, &bar, progress);
    } catch (const train::DivergenceError& e) {
      bar.finish();
      throw train::DivergenceError(
          std::string(e.what()) +
          (epoch > 0 ? "; the last good weights are in " + checkpoint + " and " + state_path
                     : std::string("; no checkpoint was written")));
    }
    bar.finish();
    // Ctrl-C during the epoch's batches or its validation: the state at the last batch done is
    // saved (a resumed run validates again after the epoch's last batch).
    auto stop_interrupted = [&](const char* where) {
      train::TrainingState state{
          epoch, r.progress,       best_val,  images_per_second_sum, recorded_options(o),
          ranks, training_seconds, best_epoch};
      if (data_parallel) data_parallel->broadcast_buffers();
      if (writer)
        train::save_training_state(state_path, model, *optimizer, state, run_metadata(epoch));
      curves.wait();  // the last finished epoch's picture
      const int signal_number = train::interrupt_signal();
      std::printf(
          "interrupted at epoch %lld, batch %lld of %lld%s; saved %s\n"
          "continue with: dlfs train --resume %s\n",
          static_cast<long long>(epoch + 1), static_cast<long long>(r.progress.batches_done),
          static_cast<long long>(batches.batches_per_epoch()), where, state_path.c_str(),
          state_path.c_str());
      std::fflush(stdout);
      return 128 + (signal_number > 0 ? signal_number : SIGINT);
    };
    if (r.interrupted) return stop_interrupted("");
    // The replicas agree before they are judged and saved: rank 0's running statistics
    // everywhere, then every rank's weights compared with rank 0's.
    if (data_parallel) {
      data_parallel->broadcast_buffers();
      data_parallel->check_replicas("after epoch " + std::to_string(epoch + 1));
    }
    train::EvalResult val;
    if (split.validation.size() > 0) {
      train::ProgressBar val_bar("validation", batches_in(split.validation.size(), batch_size),
                                 !o.flag("quiet"));
      val = train::evaluate(model, split.validation, batch_size, &val_bar, communicator.get());
      val_bar.finish();
      if (val.interrupted) return stop_interrupted(", during validation");
    }
    // Without a validation split nothing was measured: "n/a", not zeros that look measured.
    const bool validated = split.validation.size() > 0;
    // The first epoch with the best accuracy: a later tie does not replace it. A state saved
    // before the best epoch was recorded has a best accuracy but epoch 0: only a better one
    // counts then.
    const bool none_yet = best_epoch == 0 && best_val == 0.0;
    const bool best_so_far = validated && (none_yet || val.accuracy > best_val);
    if (best_so_far) best_epoch = epoch + 1;
    best_val = std::max(best_val, val.accuracy);
    images_per_second_sum += r.images_per_second;
    training_seconds += r.seconds;
    const std::string val_text =
        validated ? format("val loss %.4f", val.loss) + format(" acc %.4f", val.accuracy)
                  : std::string("val n/a (--val-split 0)");
    // The run's time left, from this process's epochs so far (training and validation).
    const double seconds_left = train::run_seconds_left(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - epochs_start).count(),
        epoch + 1 - first_epoch, resumed_share, epochs - epoch - 1);
    const std::string time_left = seconds_left >= 1.0
                                      ? "  about " + train::duration_text(seconds_left) + " left"
                                      : std::string();
    std::printf("epoch %lld/%lld  train loss %.4f acc %.4f  %s  %.0f img/s  %.1fs%s\n",
                static_cast<long long>(epoch + 1), static_cast<long long>(epochs), r.loss,
                r.accuracy, val_text.c_str(), r.images_per_second, r.seconds, time_left.c_str());
    std::fflush(stdout);
    train::EpochRow row{epoch + 1,           r.loss,       r.accuracy,
                        std::nullopt,        std::nullopt, optimizer->learning_rate(),
                        r.images_per_second, r.seconds};
    if (validated) row.validation_loss = val.loss, row.validation_accuracy = val.accuracy;
    metrics.append(row);
    // The epoch's files change as one set: all new or all of the previous epoch.
    const auto metadata = run_metadata(epoch + 1);
    const train::TrainingState state{
        epoch + 1,           {},    best_val,         images_per_second_sum,
        recorded_options(o), ranks, training_seconds, best_epoch};
    if (writer) {
      std::vector<train::EpochFile> files = {
          {"model.safetensors",
           [&](const std::string& path) { save_model(path, model, metadata); }},
          {"train_state.safetensors",
           [&](const std::string& path) {
             train::save_training_state(path, model, *optimizer, state, metadata);
           }},
          {"metrics.csv", [&](const std::string& path) { metrics.write(path); }}};
      if (keep_best && best_so_far)
        files.push_back({"best.safetensors",
                         [&](const std::string& path) { save_model(path, model, metadata); }});
      train::commit_epoch_files(out_dir, epoch + 1, files);
    }
    curves.epoch_done(model.name + ", " + optimizer->name() + " lr " +
                      format("%g", schedule->at(0)) + ", seed " + std::to_string(seed) +
                      ", epoch " + std::to_string(epoch + 1) + "/" + std::to_string(epochs));
    if (epoch + 1 == first_epoch + warmup_epochs) after_warmup = pool_counters(setup.device);
  }
  const PoolCounters at_end = pool_counters(setup.device);
  // A resumed run that had no epoch left and writes to a new folder: its metrics go there too.
  if (writer && first_epoch >= epochs && !std::filesystem::exists(out_dir + "/metrics.csv"))
    metrics.write(out_dir + "/metrics.csv");

  // --keep best: the best epoch's weights, from this folder or, after a --resume into a new
  // --out with no epoch left, from the resumed run's.
  std::string tested_checkpoint = checkpoint;
  if (keep_best) {
    tested_checkpoint = best_checkpoint;
    if (!std::filesystem::exists(tested_checkpoint) && resuming)
      tested_checkpoint = parent_directory(resume_path) + "/best.safetensors";
    if (writer) {
      load_weights(model, load_safetensors(tested_checkpoint), tested_checkpoint);
      if (!std::filesystem::exists(best_checkpoint))
        std::filesystem::copy_file(tested_checkpoint, best_checkpoint);
    }
    // The other ranks test rank 0's file: they may be on machines that cannot read it.
    if (data_parallel) data_parallel->broadcast_state();
    std::printf("testing the weights of epoch %lld, the best on validation (%.4f)\n",
                static_cast<long long>(best_epoch), best_val);
  }
  train::ProgressBar test_bar("test", batches_in(setup.data.test.size(), batch_size),
                              !o.flag("quiet"));
  const train::EvalResult test =
      train::evaluate(model, setup.data.test, batch_size, &test_bar, communicator.get());
  test_bar.finish();
  if (test.interrupted) {
    // Training is over and its files are complete; only the test figure is missing.
    curves.finish();
    const int signal_number = train::interrupt_signal();
    std::printf(
        "interrupted during the test pass; the trained model is in %s\n"
        "test it with: dlfs eval --checkpoint %s\n",
        tested_checkpoint.c_str(), tested_checkpoint.c_str());
    std::fflush(stdout);
    return 128 + (signal_number > 0 ? signal_number : SIGINT);
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  std::printf("test accuracy %.4f  loss %.4f  (%lld images)\n", test.accuracy, test.loss,
              static_cast<long long>(test.samples));

  if (!writer) return 0;
  const PoolStats host = memory_pool(Device::cpu()).stats();
  JsonWriter summary;
  summary.begin_object()
      .field("model", model.name)
      .field("input", model.variant)
      .field("parameters", model.graph.parameter_count())
      .field("device", setup.device.str())
      .field("data", setup.data_dir)
      .field("epochs", epochs)
      .field("batch_size", batch_size)
      .field("ranks", ranks)
      .field("global_batch_size", batch_size * ranks)
      .field("optimizer", optimizer->name())
      .field("learning_rate", schedule->at(0))
      .field("weight_decay", optimizer->weight_decay())
      .field("seed", seed)
      .field("augment", data::describe(augment))
      .field("train_images", split.train.size())
      .field("validation_images", split.validation.size())
      .field("best_validation_accuracy", best_val)
      .field("best_validation_epoch", best_epoch)
      .field("tested_weights", keep_best ? "best" : "last")
      .field("test_accuracy", test.accuracy)
      .field("test_loss", test.loss)
      .field("images_per_second", images_per_second_sum / epochs)
      // Every epoch's training time, also of the processes before a --resume; wall_seconds is
      // this process's, from its start to the test figure.
      .field("training_seconds", std::round(training_seconds * 100) / 100)
      .field("wall_seconds", std::round(wall * 100) / 100)
      .field("peak_host_bytes", host.peak_allocated_bytes)
      .field("peak_device_bytes", setup.device.is_cuda()
                                      ? memory_pool(setup.device).stats().peak_allocated_bytes
                                      : std::size_t{0})
      .field("warmup_epochs", warmup_epochs)
      .key("raw_allocations_after_warmup")
      .begin_object()
      .field("host", at_end.host_raw - after_warmup.host_raw)
      .field("device", at_end.device_raw - after_warmup.device_raw)
      .end_object()
      .field("cpu_fallback_transfers", model.graph.fallback_transfers())
      .key("host_pool");
  host.write_json(summary);
  summary.key("device_pool");
  if (setup.device.is_cuda())
    memory_pool(setup.device).stats().write_json(summary);
  else
    summary.null();
  summary.end_object().save(out_dir + "/summary.json");
  curves.finish();
  std::printf(
      "peak memory: host %.1f MiB%s; wrote "
      "%s/{metrics.csv,summary.json,model.safetensors,train_state.safetensors%s%s}\n",
      host.peak_allocated_bytes / 1048576.0,
      setup.device.is_cuda()
          ? format(", device %.1f MiB",
                   memory_pool(setup.device).stats().peak_allocated_bytes / 1048576.0)
                .c_str()
          : "",
      out_dir.c_str(), keep_best ? ",best.safetensors" : "", curves.drawn() ? ",curves.png" : "");
  return 0;
}

}  // namespace dlfs::app
