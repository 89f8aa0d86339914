# The Python package (python/, docs/python.md): the extension module dlfs._core, built with
# nanobind from the same libraries as the dlfs program. DLFS_PYTHON = AUTO (when Python's headers
# and nanobind are found), ON (required) or OFF. Sets DLFS_HAVE_PYTHON.
#
# nanobind comes from the Python that builds the module: the virtual environment that
# scripts/quickstart.sh makes (.venv), or pip's build environment under scikit-build-core.
set(DLFS_PYTHON AUTO CACHE STRING "Build the Python module dlfs._core: AUTO (when Python and nanobind are found), ON or OFF")
set_property(CACHE DLFS_PYTHON PROPERTY STRINGS AUTO ON OFF)
set(DLFS_HAVE_PYTHON OFF)

if(NOT DLFS_PYTHON STREQUAL "OFF")
  find_package(Python 3.9 COMPONENTS Interpreter Development.Module QUIET)
  set(_dlfs_nanobind_dir "")
  if(Python_FOUND)
    execute_process(COMMAND ${Python_EXECUTABLE} -m nanobind --cmake_dir
                    OUTPUT_VARIABLE _dlfs_nanobind_dir OUTPUT_STRIP_TRAILING_WHITESPACE
                    ERROR_QUIET RESULT_VARIABLE _dlfs_nanobind_status)
    if(NOT _dlfs_nanobind_status EQUAL 0)
      set(_dlfs_nanobind_dir "")
    endif()
  endif()
  # A build folder first configured by an isolated pip build remembers a nanobind that pip has
  # since deleted: look again.
  if(DEFINED nanobind_DIR AND NOT EXISTS "${nanobind_DIR}")
    unset(nanobind_DIR CACHE)
  endif()
  if(_dlfs_nanobind_dir)
    find_package(nanobind CONFIG REQUIRED PATHS ${_dlfs_nanobind_dir} NO_DEFAULT_PATH)
    set(DLFS_HAVE_PYTHON ON)
    message(STATUS "dlfs: Python module with ${Python_EXECUTABLE} (Python ${Python_VERSION}, nanobind ${nanobind_VERSION})")
  elseif(DLFS_PYTHON STREQUAL "ON")
    message(FATAL_ERROR "DLFS_PYTHON=ON but Python's headers or nanobind were not found for "
                        "'${Python_EXECUTABLE}'; run scripts/quickstart.sh (it makes .venv) or "
                        "configure with -DPython_EXECUTABLE=.venv/bin/python.")
  else()
    message(STATUS "dlfs: no Python module (Python headers or nanobind not found; .venv has them)")
  endif()
endif()
