#pragma once
// Runs a Python script that needs PyTorch (the models' twins in bench/pytorch_models.py), for
// the tests that compare dlfs with PyTorch. The scripts exit with kNoTorch when `import torch`
// (or numpy) fails, so no separate probe is needed: importing torch takes seconds.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace dlfs::testing {

// The exit status of a script that cannot import torch or numpy.
constexpr int kNoTorch = 77;
// The shell's exit status for a command it cannot find (no such interpreter).
constexpr int kNoCommand = 127;

// Runs `command` through the shell; returns its exit status (-1 when it did not exit) and, in
// `output`, stdout and stderr together.
inline int shell(const std::string& command, std::string* output) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  char buf[4096];
  std::string out;
  while (std::size_t got = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, got);
  const int status = ::pclose(pipe);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Pythons to try: $DLFS_PYTHON alone when set, else python3 on PATH, then Debian's
// /usr/bin/python3 (python3-torch installs for the system Python only, and a pyenv or venv
// python3 on PATH usually lacks it).
inline std::vector<std::string> torch_pythons() {
  if (const char* env = std::getenv("DLFS_PYTHON"); env && *env) return {env};
  return {"python3", "/usr/bin/python3"};
}

struct TorchScriptResult {
  bool has_torch = false;  // false: no Python could import torch; `output` says what each said
  int exit_code = -1;      // the script's, when has_torch
  std::string output;
};

// Runs `script_and_args` (shell-quoted by the caller) under the first Python that has torch.
inline TorchScriptResult run_torch_script(const std::string& script_and_args) {
  TorchScriptResult r;
  std::string tried;
  for (const std::string& python : torch_pythons()) {
    std::string output;
    const int rc = shell(python + " " + script_and_args, &output);
    if (rc != kNoTorch && rc != kNoCommand) {
      r.has_torch = true;
      r.exit_code = rc;
      r.output = output;
      return r;
    }
    tried += python + ": " + output;
  }
  r.output = tried;
  return r;
}

}  // namespace dlfs::testing
