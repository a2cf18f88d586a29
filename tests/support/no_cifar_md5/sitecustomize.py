# Put on PYTHONPATH by tests that run notebooks on tiny CIFAR-10 files in the real layout: the real
# archive's md5 sums cannot match them, so torchvision's checksum is skipped and its existence check
# kept, in every process (the notebook kernels too). Never on the path of a real run.
import os

try:
    import torchvision.datasets.cifar as _cifar

    _cifar.check_integrity = lambda path, md5=None: os.path.isfile(path)
except ImportError:
    pass
