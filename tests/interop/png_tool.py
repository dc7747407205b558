"""PNG fixtures and checks with Pillow, a decoder and encoder outside Dendrite.

  png_tool.py make DIR PIXELS.u8 W H   writes the grey picture (raw bytes) as PNGs in several modes
  png_tool.py read FILE OUT.u8          decodes a PNG (Dendrite's output) and writes its RGBA bytes, prints the mode
"""
import sys

from PIL import Image

if sys.argv[1] == "make":
    out, path, w, h = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    grey = Image.frombytes("L", (w, h), open(path, "rb").read())
    grey.save(f"{out}/L.png")
    grey.convert("LA").save(f"{out}/LA.png")
    grey.convert("RGB").save(f"{out}/RGB.png")
    rgba = grey.convert("RGBA")
    rgba.putalpha(255)
    rgba.save(f"{out}/RGBA.png")
    grey.convert("P").save(f"{out}/P.png")
    grey.convert("I;16").save(f"{out}/16bit.png")
    print("ok")
elif sys.argv[1] == "read":
    im = Image.open(sys.argv[2])
    im.load()
    print(im.mode, im.size[0], im.size[1])
    open(sys.argv[3], "wb").write(im.convert("RGBA").tobytes())
