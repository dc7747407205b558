using System.Numerics.Tensors;

namespace Dendrite.Optimizers;

/// <summary>Keras's gradient clipping (clipnorm, clipvalue, global_clipnorm), applied to the gradients in place before an update.</summary>
internal static class Clipping
{
    /// <summary>A clipping threshold: null (off) or a positive finite number; only one kind of clipping at a time, as Keras.</summary>
    public static float? Checked(Optimizer opt, float? value, string name)
    {
        if (value is not float v) return null;
        if (!(v > 0) || float.IsInfinity(v))
            throw new ArgumentOutOfRangeException(name, v, $"Invalid value received for argument `{name}`. Expected a positive finite number. Received: {name}={v}.");
        var others = new (string Name, float? Value)[] { ("clipnorm", opt.ClipNorm), ("clipvalue", opt.ClipValue), ("global_clipnorm", opt.GlobalClipNorm) };
        if (others.FirstOrDefault(o => o.Name != name && o.Value is not null) is { Name: { } other })
            throw new ArgumentException($"Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: {other}={others.First(o => o.Name == other).Value}, {name}={v}.");
        return v;
    }

    /// <summary>Clips the gradient of every variable that received one: g·c/max(‖g‖, c) per variable, per set, or g to [-c, c].</summary>
    public static void Clip(Optimizer opt, IReadOnlyList<Variable> variables)
    {
        if (opt.GlobalClipNorm is float gc)
        {
            double sum = 0;
            foreach (var v in variables)
                if (v.Trainable && v.GradWritten) sum += TensorPrimitives.SumOfSquares(v.Grad.Span);
            double norm = Math.Sqrt(sum);
            if (norm > gc)
                foreach (var v in variables)
                    if (v.Trainable && v.GradWritten) TensorPrimitives.Multiply(v.Grad.Span, (float)(gc / norm), v.Grad.Span);
            return;
        }
        foreach (var v in variables)
        {
            if (!v.Trainable || !v.GradWritten) continue;
            var g = v.Grad.Span;
            if (opt.ClipNorm is float c)
            {
                double norm = Math.Sqrt(TensorPrimitives.SumOfSquares(g));
                if (norm > c) TensorPrimitives.Multiply(g, (float)(c / norm), g);
            }
            else if (opt.ClipValue is float cv) TensorPrimitives.Clamp(g, -cv, cv, g);
        }
    }
}
