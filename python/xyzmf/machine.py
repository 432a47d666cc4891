"""What the benchmark tools say about the machine they measured on."""
import platform


def cpu_model():
    """The processor's name from /proc/cpuinfo ("AMD EPYC 9654 96-Core Processor"), else
    platform's, else "unknown CPU"."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
