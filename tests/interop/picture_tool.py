"""Pictures in every format Dendrite reads, written by Pillow (an encoder outside Dendrite and ImageSharp).

  picture_tool.py make DIR PIXELS.u8 W H
      From a grey picture (raw bytes, row-major) writes to DIR:
        upright.png, upright-rgba.png      the reference PNGs (grey; RGBA with the ink in the alpha channel)
        digit.jpg                          JPEG, quality 95, no chroma subsampling
        digit.bmp, digit-rgb.bmp           BMP, 8-bit palette and 24-bit
        digit.gif, animated.gif            GIF; and a 3-frame animation whose first frame is the digit
        animated.webp                      the same animation as WebP
        digit-lossy.webp, digit-lossless.webp, digit-rgba.webp   WebP lossy, lossless, lossless with alpha
        orient-N.jpg (N = 1..8)            JPEGs whose stored pixels are the picture turned so that their EXIF
                                           orientation tag N turns them upright again (checked with Pillow's
                                           ImageOps.exif_transpose before writing)
"""
import sys

from PIL import Image, ImageOps

# What Pillow's exif_transpose does for each tag, and the inverse used to store the picture.
UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
           5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
           8: Image.Transpose.ROTATE_90}
STORE = {**UPRIGHT, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}

if sys.argv[1] == "make":
    out, path, w, h = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    grey = Image.frombytes("L", (w, h), open(path, "rb").read())
    grey.save(f"{out}/upright.png")
    rgba = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    rgba.putalpha(ImageOps.invert(grey))   # dark ink on white becomes black ink on transparent
    rgba.save(f"{out}/upright-rgba.png")
    grey.save(f"{out}/digit.jpg", quality=95, subsampling=0)
    grey.save(f"{out}/digit.bmp")
    grey.convert("RGB").save(f"{out}/digit-rgb.bmp")
    grey.save(f"{out}/digit.gif")
    frames = [grey, ImageOps.invert(grey), grey.transpose(Image.Transpose.FLIP_TOP_BOTTOM)]
    frames[0].save(f"{out}/animated.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    frames[0].save(f"{out}/animated.webp", save_all=True, append_images=frames[1:], duration=100, loop=0, lossless=True)
    grey.convert("RGB").save(f"{out}/digit-lossy.webp", quality=90)
    grey.convert("RGB").save(f"{out}/digit-lossless.webp", lossless=True)
    rgba.save(f"{out}/digit-rgba.webp", lossless=True)
    for n in range(1, 9):
        stored = grey.transpose(STORE[n]) if n in STORE else grey.copy()
        exif = Image.Exif()
        exif[0x0112] = n
        stored.info["exif"] = exif.tobytes()
        check = stored.copy()
        check.getexif()[0x0112] = n
        assert ImageOps.exif_transpose(check).tobytes() == grey.tobytes(), n
        stored.save(f"{out}/orient-{n}.jpg", quality=95, subsampling=0, exif=exif.tobytes())
        assert Image.open(f"{out}/orient-{n}.jpg").getexif().get(0x0112) == n, n
    print("ok")
