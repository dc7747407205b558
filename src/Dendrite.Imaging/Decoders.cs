using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata;

namespace Dendrite.Imaging;

/// <summary>
/// The ImageSharp set-up every picture goes through: only the decoders Dendrite accepts (JPEG, BMP, GIF, WebP; TIFF,
/// TGA and the rest are not registered, so they are never parsed), GIF decoding its first frame only, one thread per
/// picture, and a cap on any single buffer a decoder asks for, so that a header that lies about its sizes fails with
/// an error instead of taking the machine's memory.
/// </summary>
internal static class Decoders
{
    /// <summary>Largest single buffer a decoder may allocate: an RGBA picture of <see cref="Png.MaxPixels"/> pixels (256 MiB), with room to spare.</summary>
    public const int AllocationLimitMegabytes = 512;

    public static Configuration Configuration { get; } = Create();

    /// <summary>One WebP decode at a time in this process (see <see cref="DecodedRows"/>: the lossless decoder's tables).</summary>
    public static SemaphoreSlim WebpGate { get; } = new(1, 1);

    private static Configuration Create()
    {
        var c = new Configuration(new JpegConfigurationModule(), new BmpConfigurationModule(), new GifConfigurationModule(), new WebpConfigurationModule())
        {
            MaxDegreeOfParallelism = 1,
            PreferContiguousImageBuffers = true,
            MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions { AllocationLimitMegabytes = AllocationLimitMegabytes, MaximumPoolSizeMegabytes = 64 }),
        };
        c.ImageFormatsManager.SetDecoder(GifFormat.Instance, new GifDecoder { DecodingMode = FrameDecodingMode.First, MaxFrames = 1 });
        return c;
    }

    /// <summary>The format <paramref name="head"/> (a file's first bytes) starts, or null when none of the registered ones.</summary>
    public static IImageFormat? Detect(ReadOnlySpan<byte> head) => head.Length == 0 ? null : SixLabors.ImageSharp.Image.DetectFormat(Configuration, head);
}
