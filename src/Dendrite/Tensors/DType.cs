namespace Dendrite;

/// <summary>
/// The element types <see cref="Ops.Cast"/> converts to. Every Dendrite tensor stores float32; a cast to another type
/// rounds the values to what that type holds and keeps them as floats, as TensorFlow's tf.cast would before converting back.
/// </summary>
public enum DType
{
    /// <summary>32-bit floats: values and gradients pass through unchanged.</summary>
    Float32,
    /// <summary>Integers: truncated toward zero (2.7 → 2, -2.7 → -2); beyond ±2³¹ saturated and NaN made 0, as .NET's (int) conversion.</summary>
    Int32,
    /// <summary>Truth values: 1 where the value is not 0 (NaN included), else 0.</summary>
    Bool,
}
