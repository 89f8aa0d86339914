// dlfs's exceptions as Python's: bad input (a file, an option, a shape) is a ValueError, running
// out of memory a MemoryError, any other failure a RuntimeError, each with dlfs's own message.
#include <Python.h>

#include "dlfs/python/src/bindings.hpp"
#include "dlfs/runtime/error.hpp"

namespace dlfs::python {

void bind_errors(nb::module_& m) {
  (void)m;
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const InputError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const OutOfMemoryError& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
}

}  // namespace dlfs::python
