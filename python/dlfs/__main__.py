"""`python -m dlfs ...` and the console script `dlfs` of an installed package: the dlfs program
that pip installed beside this package (dlfs/bin/dlfs)."""
import os
import sys


def main():
    program = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "dlfs")
    if not os.path.isfile(program):
        sys.stderr.write("dlfs: the dlfs program is not installed beside this package (%s); "
                         "install the package with pip, or run build/dlfs\n" % program)
        return 2
    os.execv(program, [program] + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
