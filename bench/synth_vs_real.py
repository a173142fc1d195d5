#!/usr/bin/python3
"""Contact sheet: synthetic `fmnist` renders next to real Fashion-MNIST images, one row per class.

  fashioncut synth --preset fmnist --count 1000 --seed 1 --out out/f1
  /usr/bin/python3 bench/synth_vs_real.py out/f1 docs/img/synth_vs_real_fmnist.png

Left half of each row: the first N synthetic images of the class (from the synth output folder);
right half: the first N real Fashion-MNIST *train* images of the class (labels only pick the rows
of this picture; nothing is trained). Debian's dataset-fashion-mnist provides the IDX files.
"""
import gzip
import os
import sys

import numpy as np
from PIL import Image, ImageDraw

FMNIST = "/usr/share/datasets/fashion-mnist"
CLASSES = ["t-shirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle_boot"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: synth_vs_real.py SYNTH_DIR OUT.png")
    synth_dir, out = sys.argv[1], sys.argv[2]
    n, cell, scale, label_w = 8, 28, 3, 110
    images = read_idx(os.path.join(FMNIST, "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(FMNIST, "train-labels-idx1-ubyte.gz"))
    gap = 12
    width = label_w + (2 * n * cell + gap) * scale
    sheet = Image.new("L", (width, 20 + len(CLASSES) * cell * scale), 255)
    draw = ImageDraw.Draw(sheet)
    draw.text((label_w, 4), "synthetic (fashioncut synth --preset fmnist)", fill=0)
    draw.text((label_w + (n * cell + gap) * scale, 4), "real Fashion-MNIST", fill=0)
    for row, name in enumerate(CLASSES):
        y = 20 + row * cell * scale
        draw.text((4, y + cell * scale // 2 - 6), name, fill=0)
        folder = os.path.join(synth_dir, name)
        if not os.path.isdir(folder):
            sys.exit(f"{folder}: missing; render with `fashioncut synth --preset fmnist --count 1000 --out {synth_dir}`")
        files = sorted(f for f in os.listdir(folder) if f.endswith(".png"))[:n]
        for i, f in enumerate(files):
            im = Image.open(os.path.join(folder, f)).convert("L").resize((cell * scale, cell * scale), Image.NEAREST)
            sheet.paste(im, (label_w + i * cell * scale, y))
        real = images[labels == row][:n]
        for i, a in enumerate(real):
            im = Image.fromarray(a).resize((cell * scale, cell * scale), Image.NEAREST)
            sheet.paste(im, (label_w + (n * cell + gap) * scale + i * cell * scale, y))
    sheet.save(out)
    print(out)


if __name__ == "__main__":
    main()
