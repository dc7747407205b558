using System.Globalization;
using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Models;

namespace Dendrite.Serialization.Import;

/// <summary>The file formats <see cref="Sequential.Load"/> tells apart by their first bytes.</summary>
public enum ModelFormat { Dendrite, Onnx, KerasZip, Hdf5 }

/// <summary>
/// Opens models made elsewhere (ONNX, Keras .keras and .h5) as Dendrite models, telling the formats apart
/// by content, and the input scaling put in front of an imported model (<c>dendrite import --scale</c>).
/// </summary>
public static class ModelImport
{
    /// <summary>Largest model file read (2 GiB); external ONNX data is capped separately.</summary>
    public const long MaxBytes = 2L << 30;

    /// <summary>The format of the file at <paramref name="path"/>, from its first bytes.</summary>
    public static ModelFormat Sniff(string path)
    {
        using var fs = InputFile.Open(path, "a model file", MaxBytes);
        Span<byte> head = stackalloc byte[8];
        int n = fs.ReadAtLeast(head, 8, throwOnEndOfStream: false);
        return Sniff(head[..n], path);
    }

    internal static ModelFormat Sniff(ReadOnlySpan<byte> head, string source)
    {
        if (head.Length < 8) return ModelFormat.Dendrite;   // too short for any format: the model file reader says what is wrong
        if (head.Length >= 8 && head[..8].SequenceEqual((ReadOnlySpan<byte>)[0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A])) return ModelFormat.Hdf5;
        if (head.Length >= 4 && head[..4].SequenceEqual("PK\x03\x04"u8)) return ModelFormat.KerasZip;
        if (head.Length >= 8 && BitConverter.ToUInt64(head) is > 1 and < (100 << 20)) return ModelFormat.Dendrite;   // safetensors: a header length
        if (head.Length >= 2 && head[0] == 0x08) return ModelFormat.Onnx;   // ModelProto field 1 (ir_version), a varint
        throw new InvalidDataFormatException($"{source} is not a model Dendrite reads: expected a Dendrite model (.dendrite), an ONNX model (.onnx), a Keras v3 file (.keras) or a Keras HDF5 file (.h5).");
    }

    /// <summary>Opens any model file Dendrite reads; <paramref name="scale"/> (for a model made elsewhere) goes in front.</summary>
    public static Sequential Load(string path, Layer? scale = null) => Load(path, scale, out _);

    /// <summary>As <see cref="Load(string, Layer?)"/>; <paramref name="note"/> is a line for the user about the file, or null.</summary>
    public static Sequential Load(string path, Layer? scale, out string? note)
    {
        ArgumentNullException.ThrowIfNull(path);
        var format = Sniff(path);
        note = null;
        switch (format)
        {
            case ModelFormat.Dendrite:
                if (scale is not null) throw new ArgumentException($"{path} is a Dendrite model, which already knows its input scaling; --scale is for models made elsewhere.");
                return ModelFile.Load(path, out _, out note);
            case ModelFormat.Onnx:
                {
                    var bytes = InputFile.ReadAllBytes(path, "an ONNX model", MaxBytes);
                    MemoryBudget.Require(3L * bytes.Length, $"Loading {path}");   // the file, its parsed messages, the weights
                    return FromOnnx(bytes, path, Path.GetDirectoryName(Path.GetFullPath(path))!, scale);
                }
            default:
                {
                    using var file = format == ModelFormat.Hdf5 ? KerasFile.OpenHdf5(path) : KerasFile.OpenZip(path);
                    return FromKeras(file, path, scale, out note);
                }
        }
    }

    /// <summary>A Keras model from an opened file; <paramref name="note"/> says when optimizer state in it was ignored.</summary>
    internal static Sequential FromKeras(KerasFile file, string source, Layer? scale, out string? note)
    {
        note = file.HasOptimizerState ? $"{source}: the optimizer state saved in the file is ignored; fine-tuning starts a fresh optimizer." : null;
        try { return KerasImport.Convert(file, source, scale); }
        catch (Exception e) when (e is not InvalidDataFormatException and not OutOfMemoryException and not OperationCanceledException)
        {
            // The HDF5 reader meeting a damaged structure while weights are looked up.
            throw new InvalidDataFormatException($"{source}: the Keras weights cannot be read: {e.Message}", e);
        }
    }

    /// <summary>An ONNX model from its bytes; external data is read only from <paramref name="folder"/>.</summary>
    internal static Sequential FromOnnx(byte[] bytes, string source, string folder, Layer? scale)
    {
        var m = OnnxModel.Parse(bytes, source, folder);
        try { return OnnxImport.Convert(m, source, scale); }
        catch (Exception e) when (e is ArgumentException or OverflowException or InvalidOperationException)
        {
            // A layer refusing what the graph asks of it (a window larger than its input, say): the file is at fault.
            throw new InvalidDataFormatException($"{source}: the model cannot be built in Dendrite: {e.Message}", e);
        }
    }

    /// <summary>
    /// The input scaling of <c>--scale</c>: "0-1" (x/255), "raw" (none), or "mean-std:M,S" ((x/255 − M)/S, so "mean-std:0.5,0.5"
    /// is PyTorch's usual [-1, 1]). Returns a <see cref="Rescaling"/> layer, or null for "raw".
    /// </summary>
    public static Rescaling? ParseScale(string scale)
    {
        ArgumentNullException.ThrowIfNull(scale);
        if (scale == "0-1") return new Rescaling(1f / 255);
        if (scale == "raw") return null;
        if (scale.StartsWith("mean-std:", StringComparison.Ordinal))
        {
            var parts = scale["mean-std:".Length..].Split(',');
            if (parts.Length == 2
                && float.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out float mean) && float.IsFinite(mean)
                && float.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out float std) && float.IsFinite(std) && std > 0)
                return new Rescaling(1f / (255 * std), -mean / std);
        }
        throw new ArgumentException($"--scale takes 0-1 (x/255), raw, or mean-std:M,S ((x/255 - M)/S, with S > 0); received \"{scale}\".");
    }
}
