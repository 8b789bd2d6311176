"""The one compiled part: the reading processes' quick way through log files
(checks/evidence/_fastread.pyx). Optional: without a C compiler the install goes on and
the same lines are read by the Python reader (slower, the same results)."""

from setuptools import Extension, setup

try:
    from Cython.Build import cythonize
except ImportError:  # building without Cython: nothing compiled
    extensions = []
else:
    extensions = cythonize(
        [Extension("checks.evidence._fastread", ["checks/evidence/_fastread.pyx"], optional=True)],
        language_level=3,
    )

setup(ext_modules=extensions)
