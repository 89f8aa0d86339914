#pragma once
// Command-line options for dlfs subcommands: declared with their help text, parsed strictly.
// Every mistake is an InputError of one sentence naming the option. Messages carry no
// "dlfs COMMAND: " prefix: main() adds it, once, to every error.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dlfs::app {

class Options {
 public:
  Options(std::string command, std::string summary)
      : command_(std::move(command)), summary_(std::move(summary)) {}

  // --name VALUE with a default ("" = none). `value_name` shows in help ("N", "DIR").
  void add(const std::string& name, const std::string& value_name, const std::string& help,
           const std::string& default_value = "");
  // --name without a value.
  void add_flag(const std::string& name, const std::string& help);

  // Parses argv[first..argc). Returns false when --help was given (help already printed).
  // An option given twice is an error: silently keeping one of two values hides a typo.
  bool parse(int argc, char** argv, int first);
  std::string help() const;

  // True when the command declares --name (shared code serves several commands).
  bool declared(const std::string& name) const { return specs_.count(name) > 0; }
  bool given(const std::string& name) const;
  // Sets --name as if it had been given (a flag: value "1"); used to restore a resumed run's
  // options. Throws when the option is not declared.
  void set(const std::string& name, const std::string& value);
  // Names of the declared options, in declaration order.
  const std::vector<std::string>& names() const { return order_; }
  bool is_flag(const std::string& name) const { return spec(name).is_flag; }
  // The declared default's text ("" = none; a flag's default is off).
  const std::string& default_text(const std::string& name) const {
    return spec(name).default_value;
  }
  bool flag(const std::string& name) const;
  std::string text(const std::string& name) const;
  // Typed accessors; each checks the text and names the option in its error.
  std::int64_t integer(const std::string& name, std::int64_t min, std::int64_t max) const;
  double real(const std::string& name, double min, double max) const;
  // One of `choices`.
  std::string choice(const std::string& name, const std::vector<std::string>& choices) const;

 private:
  struct Spec {
    std::string value_name, help, default_value;
    bool is_flag = false;
  };
  const Spec& spec(const std::string& name) const;

  std::string command_, summary_;
  std::vector<std::string> order_;
  std::map<std::string, Spec> specs_;
  std::map<std::string, std::string> values_;
};

// The entries of a comma-separated option value (--models, --batch-sizes). An empty value or an
// empty entry ("64,,128", "64,") is an error naming `option` and the entry's position: dropping
// it silently would run something other than what was typed.
std::vector<std::string> split_list(const std::string& text, const std::string& option);

}  // namespace dlfs::app
