"""The Python package from pip: the pure-Python files of python/xyzmf plus the
compiled xyzmf._core, built by this project's CMake (the same build as
tools/build.sh, for the interpreter pip runs). XYZMF_BUILD_DIR names a CMake
build directory to build in (default: build-pip/); one already built is reused."""
import glob
import os
import re
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
os.makedirs(os.path.join(ROOT, "build-setuptools"), exist_ok=True)  # (egg_base must exist)


def cmake_version():
    text = open(os.path.join(ROOT, "CMakeLists.txt")).read()
    return re.search(r"project\(xyzmf VERSION ([0-9.]+)", text).group(1)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = os.path.abspath(os.environ.get("XYZMF_BUILD_DIR") or os.path.join(ROOT, "build-pip"))
        if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
            subprocess.check_call(["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
                                   "-DXYZMF_BUILD_TESTS=OFF", f"-DPython3_EXECUTABLE={sys.executable}"])
        subprocess.check_call(["cmake", "--build", build, "--target", "xyzmf_python", "-j", str(os.cpu_count() or 1)])
        built = glob.glob(os.path.join(build, "python", "xyzmf", "_core*.so"))
        if not built:
            raise RuntimeError(f"xyzmf: CMake built no xyzmf/_core*.so in {build}/python")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(built[0], target)


setup(
    version=cmake_version(),
    packages=["xyzmf"],
    package_dir={"xyzmf": "python/xyzmf"},
    ext_modules=[Extension("xyzmf._core", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    options={"build": {"build_base": "build-setuptools"}, "egg_info": {"egg_base": "build-setuptools"}},
)
