// dlfs export: a checkpoint's inference graph as an ONNX file. The exporter is the Python
// package's (python -m dlfs.onnx, docs/onnx.md); this command finds a python that has the onnx
// package and runs the exporter with the package built beside the binary first on PYTHONPATH.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dlfs/apps/commands.hpp"
#include "dlfs/apps/options.hpp"
#include "dlfs/apps/python_scripts.hpp"
#include "dlfs/runtime/error.hpp"

extern char** environ;

namespace dlfs::app {

namespace {

bool is_executable(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// $DLFS_PYTHON, else the source tree's virtual environment, else python3 on the PATH.
std::string default_python() {
  const char* chosen = std::getenv("DLFS_PYTHON");
  if (chosen && *chosen) return chosen;
  const std::string venv = std::string(DLFS_SOURCE_DIR) + "/.venv/bin/python";
  return is_executable(venv) ? venv : "python3";
}

// Where the build puts the Python package beside the binary (build/dlfs -> build/python/dlfs);
// "" when the running executable has none (an installed dlfs, or the tests' python).
std::string build_tree_package_dir() {
  char exe[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return "";
  exe[n] = '\0';
  const char* slash = std::strrchr(exe, '/');
  if (!slash) return "";
  const std::string dir = std::string(exe, static_cast<std::size_t>(slash - exe)) + "/python";
  return is_directory(dir + "/dlfs") ? dir : "";
}

// `env` with `dir` first on PYTHONPATH.
std::vector<std::string> with_python_path(const std::vector<std::string>& env,
                                          const std::string& dir) {
  std::vector<std::string> out;
  std::string python_path = "PYTHONPATH=" + dir;
  for (const std::string& e : env) {
    if (e.rfind("PYTHONPATH=", 0) == 0) {
      if (e.size() > 11) python_path += ":" + e.substr(11);
    } else {
      out.push_back(e);
    }
  }
  out.push_back(python_path);
  return out;
}

// Runs args (args[0] looked up on the PATH) in `env` and waits: its exit status, 127 when it
// cannot start. `quiet` discards its output.
int run(std::vector<std::string> args, std::vector<std::string> env, bool quiet) {
  std::vector<char*> argv, envp;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  if (quiet) {
    posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&files, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  }
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], &files, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&files);
  return wait_exit_status(rc == 0 ? pid : -1, true);
}

bool imports(const std::string& python, const std::string& module,
             const std::vector<std::string>& env) {
  return run({python, "-c", "import " + module}, env, true) == 0;
}

}  // namespace

int export_command(int argc, char** argv) {
  Options o("export",
            "Writes a checkpoint's inference graph (the logits, in inference mode) as an ONNX "
            "model with a dynamic batch size, through the Python package's exporter "
            "(python -m dlfs.onnx; docs/onnx.md).\n"
            "usage: dlfs export --checkpoint FILE --onnx OUT.onnx [--opset N] [--python PATH]");
  o.add("checkpoint", "FILE", "the checkpoint to export (required)");
  o.add("onnx", "FILE", "the ONNX file to write (required)");
  o.add("opset", "N", "the ONNX opset to write", "17");
  o.add("python", "PATH",
        "the python to run the exporter with (default: $DLFS_PYTHON, else the source tree's "
        ".venv/bin/python, else python3)");
  if (!o.parse(argc, argv, 2)) return 0;
  if (!o.given("checkpoint")) throw InputError("option --checkpoint FILE is required");
  if (!o.given("onnx")) throw InputError("option --onnx FILE is required");
  const std::int64_t opset = o.integer("opset", 1, 1000);
  const std::string python = o.given("python") ? o.text("python") : default_python();

  // PYTHONSAFEPATH (Python 3.11; earlier ones ignore it) keeps the current directory off
  // sys.path: run from the source tree's python/, its dlfs folder (no _core) would shadow the
  // package.
  std::vector<std::string> env = {"PYTHONSAFEPATH=1"};
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "PYTHONSAFEPATH=", 15) != 0) env.emplace_back(*e);
  if (run({python, "-c", ""}, env, true) == 127)
    throw InputError("python '" + python +
                     "' cannot be started; name one with --python PATH or DLFS_PYTHON");
  if (!imports(python, "onnx", env))
    throw InputError(python + " has no onnx package, which dlfs export needs (pip install onnx)");
  // The package built beside this binary first: it is the same build, where an installed one
  // (pip install .) may be older. Without one, or where it does not import under this python
  // (built for another version), an installed package.
  const std::string package_dir = build_tree_package_dir();
  std::vector<std::string> build_env;
  if (!package_dir.empty()) build_env = with_python_path(env, package_dir);
  if (!package_dir.empty() && imports(python, "dlfs.onnx", build_env))
    env = build_env;
  else if (!imports(python, "dlfs.onnx", env))
    throw InputError("the dlfs Python package does not import under " + python +
                     " (build it with cmake --build build --target _core, or name a python "
                     "that has it with --python)");
  std::fflush(stdout);
  // dlfs.onnx says what is wrong with the checkpoint in one line and exits 2.
  return run({python, "-m", "dlfs.onnx", "--checkpoint", o.text("checkpoint"), "--onnx",
              o.text("onnx"), "--opset", std::to_string(opset)},
             env, false);
}

}  // namespace dlfs::app
