#include "dlfs/apps/options.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "dlfs/runtime/error.hpp"

namespace dlfs::app {

void Options::add(const std::string& name, const std::string& value_name, const std::string& help,
                  const std::string& default_value) {
  order_.push_back(name);
  specs_[name] = {value_name, help, default_value, false};
}

void Options::add_flag(const std::string& name, const std::string& help) {
  order_.push_back(name);
  specs_[name] = {"", help, "", true};
}

const Options::Spec& Options::spec(const std::string& name) const {
  auto it = specs_.find(name);
  if (it == specs_.end()) throw Error("internal: option --" + name + " was not declared");
  return it->second;
}

bool Options::parse(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(help().c_str(), stdout);
      return false;
    }
    if (arg.rfind("--", 0) != 0)
      throw InputError("unexpected argument '" + arg + "'; see dlfs " + command_ + " --help");
    std::string name = arg.substr(2), value;
    const auto eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    auto it = specs_.find(name);
    if (it == specs_.end())
      throw InputError("unknown option '--" + name + "'; see dlfs " + command_ + " --help");
    const auto earlier = values_.find(name);
    if (it->second.is_flag) {
      if (inline_value) throw InputError("option --" + name + " takes no value");
      if (earlier != values_.end()) throw InputError("option --" + name + " is given twice");
      values_[name] = "1";
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argc)
        throw InputError("option --" + name + " needs a value (" + it->second.value_name + ")");
      value = argv[++i];
    }
    if (earlier != values_.end())
      throw InputError("option --" + name + " is given twice (" + earlier->second + " and " +
                       value + ")");
    values_[name] = value;
  }
  return true;
}

std::string Options::help() const {
  std::string out = "usage: dlfs " + command_ + " [options]\n\n" + summary_ + "\n\noptions:\n";
  for (const auto& name : order_) {
    const Spec& s = specs_.at(name);
    std::string left = "  --" + name + (s.is_flag ? "" : " " + s.value_name);
    if (left.size() < 26)
      left += std::string(26 - left.size(), ' ');
    else
      left += "\n" + std::string(26, ' ');
    out += left + s.help;
    if (!s.default_value.empty()) out += " (default: " + s.default_value + ")";
    out += "\n";
  }
  out += "  --help                  this text\n";
  return out;
}

void Options::set(const std::string& name, const std::string& value) {
  spec(name);  // throws for an undeclared option
  values_[name] = value;
}

bool Options::given(const std::string& name) const {
  spec(name);
  return values_.count(name) > 0;
}

bool Options::flag(const std::string& name) const {
  return given(name);
}

std::string Options::text(const std::string& name) const {
  auto it = values_.find(name);
  return it != values_.end() ? it->second : spec(name).default_value;
}

std::int64_t Options::integer(const std::string& name, std::int64_t min, std::int64_t max) const {
  const std::string t = text(name);
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(t.c_str(), &end, 10);
  if (t.empty() || *end != '\0' || errno == ERANGE)
    throw InputError("option --" + name + ": '" + t + "' is not an integer");
  if (v < min || v > max)
    throw InputError("option --" + name + ": " + t + " is out of range [" + std::to_string(min) +
                     ", " + std::to_string(max) + "]");
  return v;
}

double Options::real(const std::string& name, double min, double max) const {
  const std::string t = text(name);
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (t.empty() || *end != '\0')
    throw InputError("option --" + name + ": '" + t + "' is not a number");
  if (!std::isfinite(v)) throw InputError("option --" + name + ": " + t + " is not finite");
  if (v < min || v > max) {
    char range[96];
    std::snprintf(range, sizeof range, "[%g, %g]", min, max);
    throw InputError("option --" + name + ": " + t + " is out of range " + range);
  }
  return v;
}

std::string Options::choice(const std::string& name,
                            const std::vector<std::string>& choices) const {
  const std::string t = text(name);
  std::string all;
  for (const auto& c : choices) {
    if (c == t) return t;
    all += (all.empty() ? "" : ", ") + c;
  }
  throw InputError("option --" + name + ": '" + t + "' is not one of " + all);
}

std::vector<std::string> split_list(const std::string& text, const std::string& option) {
  if (text.empty()) throw InputError("option --" + option + " names nothing");
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    const std::size_t end = comma == std::string::npos ? text.size() : comma;
    if (end == start)
      throw InputError("option --" + option + ": entry " + std::to_string(out.size() + 1) +
                       " of '" + text + "' is empty");
    out.push_back(text.substr(start, end - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

}  // namespace dlfs::app
