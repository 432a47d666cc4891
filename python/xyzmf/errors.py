"""One root for everything xyzmf refuses, with the Python exception each case is:

    Error                          the root: except xyzmf.Error catches them all
     +- OptionError(TypeError)     a keyword the command does not have (exit code 2)
     +- UsageError(ValueError)     a value out of range or malformed (exit code 2)
     +- FileError(OSError)         a file missing, foreign, damaged or already there (3)
     +- BlowUpError(ArithmeticError)  the state left the Bloch ball during a run (4)

Each carries exit_code, the code the `xyzmf` program exits with for the same
refusal, and a one-line message worded for Python: options are named as the
keywords they are (dt, not --dt; overwrite=True, not --overwrite)."""

import os
import re


class Error(Exception):
    """A refusal of xyzmf: a one-line message and the program's exit code."""

    exit_code = 1

    def __init__(self, message, exit_code=None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class OptionError(Error, TypeError):
    """A keyword argument the command does not take."""

    exit_code = 2


class UsageError(Error, ValueError):
    """A keyword's value the command refuses."""

    exit_code = 2


class FileError(Error, OSError):
    """A file that cannot be read or written as asked. str(error) is one line; for a
    file that cannot be read, "PATH: why", with the parts as error.path and error.why."""

    exit_code = 3

    def __init__(self, path, why=None, exit_code=None):
        if why is None:  # a whole message (a command's refusal)
            super().__init__(path, exit_code)
            self.path, self.why = None, path
        else:
            super().__init__(f"{os.fspath(path)}: {why}", exit_code)
            self.path, self.why = os.fspath(path), why


class BlowUpError(Error, ArithmeticError):
    """The state became NaN/Inf or |s| > 1 + norm_tol during a run."""

    exit_code = 4


def _keyword(match):
    return match.group(1).replace("-", "_")


def python_words(message, command=None):
    """The program's message with options named as keywords: "--t-end" -> "t_end",
    "pass --overwrite" -> "pass overwrite=True", "--resume F.h5" -> "resume='F.h5'", "-o:" -> "output:",
    "(see --help)" and "xyzmf run --help" -> "xyzmf.help('run')"."""
    message = re.sub(r"\bxyzmf ([a-z]+) --help\b", r"xyzmf.help('\1')", message)
    if command:
        message = message.replace("(see --help)", f"(see xyzmf.help({command!r}))")
    message = re.sub(r"(?<![\w-])--overwrite\b", "overwrite=True", message)
    # a file named after --resume (not a word of the sentence: "--resume takes every parameter")
    message = re.sub(r"(?<![\w-])--resume ([^\s,;)]*[./][^\s,;)]*)([,;)]?)(?=\s|$)", r"resume='\1'\2", message)
    message = re.sub(r"(?<![\w-])-o:", "output:", message)
    return re.sub(r"(?<![\w-])--([A-Za-z][\w-]*)", _keyword, message)


def from_program(command, message, code):
    """The exception for the program's refusal `message` with exit code `code`."""
    unknown = re.match(r"(?:The following arguments? (?:was|were) not expected|unexpected argument\(s\)): ([^()]*?)"
                       r"(?: \(did you mean ([^?]*)\?\))?(?: \(see --help\))?$", message)
    if code == 2 and unknown:
        names = [w[2:].split("=")[0].replace("-", "_") for w in unknown.group(1).split() if w.startswith("--")]
        if names:
            which = ", ".join(repr(n) for n in names)
            hint = f"did you mean {python_words(unknown.group(2))}? " if unknown.group(2) else ""
            return OptionError(f"{command}() got unexpected keyword argument{'s' if len(names) > 1 else ''} {which} "
                               f"({hint}xyzmf.help({command!r}) lists them)")
    kind = {2: UsageError, 3: FileError, 4: BlowUpError}.get(code, Error)
    return kind(python_words(message, command), exit_code=code)
