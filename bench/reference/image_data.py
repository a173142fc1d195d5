"""PIL image pipeline mirroring fashioncut's data::apply_transform for the stretch / no-augmentation
case (src/fashioncut/data/transforms.cpp) and torch Datasets over image folders.

decode (PIL) -> convert to gray ('L', luma) or RGB -> stretch-resize to size x size (box filter when
shrinking both sides, like cv::INTER_AREA; bilinear otherwise, like cv::INTER_LINEAR) -> float [C,H,W]
in [0,1] -> normalise: minus-one-one ((x-0.5)/0.5) or imagenet (RGB ImageNet stats; gray 0.449/0.226).
"""
import os

import numpy as np
import torch
from PIL import Image

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")  # data::has_image_extension

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_GRAY_MEAN, _GRAY_STD = 0.449, 0.226


def is_image_file(path):
    return path.lower().endswith(IMAGE_EXTENSIONS)


def list_images(root):
    """Every image under root, recursively, sorted (as predict_job's folder expansion)."""
    out = []
    for dirpath, _, files in os.walk(root):
        for f in files:
            if is_image_file(f):
                out.append(os.path.join(dirpath, f))
    out.sort()
    return out


class Transform:
    def __init__(self, size, channels, norm="minus-one-one"):
        self.size, self.channels, self.norm = size, channels, norm
        if norm == "minus-one-one":
            mean, std = [0.5] * channels, [0.5] * channels
        elif channels == 1:
            mean, std = [_GRAY_MEAN], [_GRAY_STD]
        else:
            mean, std = list(_IMAGENET_MEAN), list(_IMAGENET_STD)
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def __call__(self, img):
        img = img.convert("L" if self.channels == 1 else "RGB")
        w, h = img.size
        if (w, h) != (self.size, self.size):
            shrinking = self.size < w and self.size < h
            img = img.resize((self.size, self.size), Image.BOX if shrinking else Image.BILINEAR)
        a = np.asarray(img, dtype=np.uint8)
        if a.ndim == 2:
            a = a[:, :, None]
        t = torch.from_numpy(a.copy()).permute(2, 0, 1).float().div_(255.0)
        return (t - self.mean) / self.std


def open_image(path):
    """ImageFolder loader: decoded PIL image in its own mode (the Transform converts it)."""
    with Image.open(path) as im:
        im.load()
        return im


def load(path, transform):
    return transform(open_image(path))


def labelled_folder(root, transform):
    """torchvision ImageFolder over root/<class>/<image>: classes = sorted subfolders, label = index."""
    import torchvision

    return torchvision.datasets.ImageFolder(root, transform=transform, loader=open_image,
                                            is_valid_file=is_image_file)


class ImageFiles(torch.utils.data.Dataset):
    """Every image under a folder, recursively; unlabelled (returns the tensor only)."""

    def __init__(self, root, transform):
        self.paths = list_images(root)
        if not self.paths:
            raise SystemExit("no images under %s" % root)
        self.transform = transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        return load(self.paths[i], self.transform)
