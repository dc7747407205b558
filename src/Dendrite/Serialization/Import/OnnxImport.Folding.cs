using Dendrite.Data;

namespace Dendrite.Serialization.Import;

/// <summary>
/// Constant folding at load: nodes whose inputs are all constants are computed once, here, so that the chains exporters
/// write to compute a shape or pads (torch.onnx.export's Shape → Gather → Unsqueeze → Concat for
/// <c>x.view(x.size(0), -1)</c>, its ConstantOfShape → Reshape → Slice → Transpose → Cast for <c>F.pad</c>) become plain
/// constants before the layers that read them. The opset decides where attributes live: Unsqueeze's and Squeeze's axes
/// are attributes before opset 13 and inputs from it; Slice's starts, ends and axes attributes before opset 10.
/// </summary>
internal sealed partial class OnnxImport
{
    /// <summary>Most values in one tensor computed at load: shape and pads chains hold a handful, weights are never folded.</summary>
    private const long MaxFolded = 1 << 24;

    private void Fold(OnnxNode n)
    {
        string o = n.Outputs.Length > 0 ? n.Outputs[0] : throw Fail(n, "it has no output.");
        OnnxTensor In(int i) => NeedConst(n, i, $"input {i}");
        long[]? Axes(int input) => _m.Opset is > 0 and < 13 || n.Attributes.ContainsKey("axes")
            ? n.Ints("axes") : n.Inputs.Length > input && n.Inputs[input].Length > 0 ? In(input).AsInts() : null;
        switch (n.OpType)
        {
            case "Constant":
                {
                    if (n.Attributes.TryGetValue("value", out var v) && v.Tensor is { } t) _consts[o] = t with { Name = o };
                    else if (n.Attributes.TryGetValue("value_ints", out v)) _consts[o] = new(o, [v.Ints.Length], null, v.Ints);
                    else if (n.Attributes.TryGetValue("value_int", out v) && v.Int is long i) _consts[o] = new(o, [], null, [i]);
                    else if (n.Attributes.TryGetValue("value_floats", out v)) _consts[o] = new(o, [v.Floats.Length], v.Floats, null);
                    else if (n.Attributes.TryGetValue("value_float", out v) && v.Float is float f) _consts[o] = new(o, [], [f], null);
                    else throw Fail(n, "it has no value Dendrite reads.");
                    return;
                }
            case "Identity" or "Dropout": _consts[o] = In(0) with { Name = o }; return;
            case "Cast": _consts[o] = Cast(n, In(0), o); return;
            case "ConstantOfShape":
                {
                    var dims = In(0).AsInts();
                    long count = Count(n, dims);
                    var value = n.Attributes.TryGetValue("value", out var v) && v.Tensor is { Count: 1 } t ? t : new OnnxTensor("", [1], [0f], null);
                    _consts[o] = value.Ints is { } ints ? new(o, dims, null, Enumerable.Repeat(ints[0], (int)count).ToArray())
                        : new(o, dims, Enumerable.Repeat(value.Floats![0], (int)count).ToArray(), null);
                    return;
                }
            case "Gather": _consts[o] = Gather(n, In(0), In(1), o); return;
            case "Unsqueeze":
                {
                    var t = In(0);
                    var axes = Axes(1) ?? throw Fail(n, "it has no axes.");
                    int rank = t.Dims.Length + axes.Length;
                    var at = axes.Select(a => a < 0 ? a + rank : a).ToArray();
                    if (at.Any(a => a < 0 || a >= rank) || at.Distinct().Count() != at.Length) throw Fail(n, $"axes ({string.Join(", ", axes)}) do not fit rank {rank}.");
                    var dims = new List<long>(t.Dims);
                    foreach (long a in at.Order()) dims.Insert((int)a, 1);
                    _consts[o] = t with { Name = o, Dims = [.. dims] };
                    return;
                }
            case "Squeeze":
                {
                    var t = In(0);
                    var axes = Axes(1)?.Select(a => a < 0 ? a + t.Dims.Length : a).ToArray();
                    if (axes is not null && axes.Any(a => a < 0 || a >= t.Dims.Length || t.Dims[a] != 1)) throw Fail(n, $"axes ({string.Join(", ", axes)}) are not of size 1.");
                    _consts[o] = t with { Name = o, Dims = t.Dims.Where((d, i) => axes is null ? d != 1 : !axes.Contains(i)).ToArray() };
                    return;
                }
            case "Reshape":
                {
                    var t = In(0);
                    var target = In(1).AsInts().ToArray();
                    bool allowZero = n.Int("allowzero", 0) != 0;
                    for (int i = 0; i < target.Length; i++)
                        if (target[i] == 0 && !allowZero) target[i] = i < t.Dims.Length ? t.Dims[i] : throw Fail(n, "a 0 dimension past the input's rank.");
                    long known = target.Where(d => d != -1).Aggregate(1L, (a, b) => a * b);
                    if (target.Count(d => d == -1) > 1 || target.Any(d => d < -1) || known < 0 || (known == 0 ? t.Count != 0 : t.Count % known != 0))
                        throw Fail(n, $"cannot reshape {t.Count} values to ({string.Join(", ", target)}).");
                    for (int i = 0; i < target.Length; i++) if (target[i] == -1) target[i] = known == 0 ? 0 : t.Count / known;
                    if (target.Aggregate(1L, (a, b) => a * b) != t.Count) throw Fail(n, $"cannot reshape {t.Count} values to ({string.Join(", ", target)}).");
                    _consts[o] = t with { Name = o, Dims = target };
                    return;
                }
            case "Transpose":
                {
                    var t = In(0);
                    int rank = t.Dims.Length;
                    Count(n, t.Dims);
                    var perm = n.Ints("perm") ?? Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
                    if (perm.Length != rank || perm.Order().Select((p, i) => p == i).Any(ok => !ok)) throw Fail(n, $"perm ({string.Join(", ", perm)}) is not a permutation of {rank} axes.");
                    var strides = Strides(t.Dims);
                    _consts[o] = Remap(n, t, o, perm.Select(p => Enumerable.Range(0, (int)t.Dims[p]).Select(i => (long)i).ToArray()).ToArray(), perm.Select(p => strides[p]).ToArray());
                    return;
                }
            case "Slice": _consts[o] = Slice(n, In(0), o); return;
            case "Concat": _consts[o] = Concat(n, Enumerable.Range(0, n.Inputs.Length).Select(In).ToArray(), o); return;
            case "Add" or "Sub" or "Mul" or "Div":
                {
                    var a = In(0); var b = In(1);
                    if (a.Count != b.Count && a.Count != 1 && b.Count != 1) throw Fail(n, "only same-size or scalar constants are folded.");
                    int count = Math.Max(a.Count, b.Count);
                    var dims = a.Count >= b.Count ? a.Dims : b.Dims;
                    if (a.Ints is not null && b.Ints is not null)
                    {
                        var x = a.Ints; var y = b.Ints;
                        var r = Enumerable.Range(0, count).Select(i => Apply(n.OpType, x[x.Length == 1 ? 0 : i], y[y.Length == 1 ? 0 : i])).ToArray();
                        _consts[o] = new(o, dims, null, r);
                    }
                    else
                    {
                        var x = a.AsFloats(); var y = b.AsFloats();
                        var r = Enumerable.Range(0, count).Select(i => Apply(n.OpType, x[x.Length == 1 ? 0 : i], y[y.Length == 1 ? 0 : i])).ToArray();
                        _consts[o] = new(o, dims, r, null);
                    }
                    return;
                }
            default:
                throw Fail(n, SupportedOps.Contains(n.OpType)
                    ? "it computes on constants only, which Dendrite does not fold for this op."
                    : $"op {n.OpType} is not supported. Dendrite imports these ONNX ops: {string.Join(", ", SupportedOps)}.");
        }
    }

    private static long Apply(string op, long a, long b) => op switch { "Add" => a + b, "Sub" => a - b, "Mul" => a * b, _ => b == 0 ? 0 : a / b };
    private static float Apply(string op, float a, float b) => op switch { "Add" => a + b, "Sub" => a - b, "Mul" => a * b, _ => a / b };

    /// <summary>The number of values of a tensor of <paramref name="dims"/>, refused past <see cref="MaxFolded"/>.</summary>
    private long Count(OnnxNode n, long[] dims)
    {
        long count = 1;
        foreach (long d in dims)
            if (d < 0 || (count *= d) > MaxFolded || d > MaxFolded) throw Fail(n, $"a constant of shape ({string.Join(", ", dims)}) is too large to compute at load ({MaxFolded} values at most).");
        return count;
    }

    private static long[] Strides(long[] dims)
    {
        var s = new long[dims.Length];
        long step = 1;
        for (int i = dims.Length - 1; i >= 0; i--) { s[i] = step; step *= dims[i]; }
        return s;
    }

    /// <summary>
    /// A tensor whose axis <c>a</c> takes, in order, the source coordinates <c>picks[a]</c> along a source axis of
    /// stride <c>strides[a]</c>: a slice (picks within each axis) or a transpose (axes in another order).
    /// </summary>
    private OnnxTensor Remap(OnnxNode n, OnnxTensor t, string name, long[][] picks, long[] strides)
    {
        var dims = picks.Select(p => (long)p.Length).ToArray();
        long count = Count(n, dims);
        var source = new long[count];
        var index = new int[dims.Length];
        for (long k = 0; k < count; k++)
        {
            long at = 0;
            for (int a = 0; a < dims.Length; a++) at += picks[a][index[a]] * strides[a];
            source[k] = at;
            for (int a = dims.Length - 1; a >= 0 && ++index[a] == dims[a]; a--) index[a] = 0;
        }
        return t.Ints is { } ints ? new(name, dims, null, source.Select(i => ints[i]).ToArray()) : new(name, dims, source.Select(i => t.Floats![i]).ToArray(), null);
    }

    /// <summary>ONNX Slice: per axis, start (inclusive) to end (exclusive) by step, negative indices counting from the end, clamped.</summary>
    private OnnxTensor Slice(OnnxNode n, OnnxTensor t, string name)
    {
        long[] starts, ends; long[]? axes, steps = null;
        if (_m.Opset is > 0 and < 10)
        {
            starts = n.Ints("starts") ?? throw Fail(n, "it has no starts.");
            ends = n.Ints("ends") ?? throw Fail(n, "it has no ends.");
            axes = n.Ints("axes");
        }
        else
        {
            starts = NeedConst(n, 1, "starts").AsInts();
            ends = NeedConst(n, 2, "ends").AsInts();
            axes = n.Inputs.Length > 3 && n.Inputs[3].Length > 0 ? NeedConst(n, 3, "axes").AsInts() : null;
            steps = n.Inputs.Length > 4 && n.Inputs[4].Length > 0 ? NeedConst(n, 4, "steps").AsInts() : null;
        }
        int rank = t.Dims.Length;
        Count(n, t.Dims);
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length) throw Fail(n, "its starts, ends, axes and steps differ in length.");
        var picks = t.Dims.Select(d => Enumerable.Range(0, (int)d).Select(i => (long)i).ToArray()).ToArray();
        for (int k = 0; k < axes.Length; k++)
        {
            long axis = axes[k] < 0 ? axes[k] + rank : axes[k];
            if (axis < 0 || axis >= rank) throw Fail(n, $"axis {axes[k]} is out of range for rank {rank}.");
            long d = t.Dims[axis], step = steps[k];
            if (step == 0) throw Fail(n, "a step of 0.");
            long start = starts[k] < 0 ? starts[k] + d : starts[k], end = ends[k] < 0 ? ends[k] + d : ends[k];
            if (step > 0) { start = Math.Clamp(start, 0, d); end = Math.Clamp(end, 0, d); }
            else { start = Math.Clamp(start, 0, d - 1); end = Math.Clamp(end, -1, d - 1); }
            var pick = new List<long>();
            for (long i = start; step > 0 ? i < end : i > end; i += step) pick.Add(i);
            picks[axis] = [.. pick];
        }
        return Remap(n, t, name, picks, Strides(t.Dims));
    }

    /// <summary>ONNX Gather: the slices of <paramref name="data"/> along <c>axis</c> at <paramref name="indices"/>.</summary>
    private OnnxTensor Gather(OnnxNode n, OnnxTensor data, OnnxTensor indices, string name)
    {
        int rank = data.Dims.Length;
        long axis = n.Int("axis", 0);
        if (axis < 0) axis += rank;
        if (axis < 0 || axis >= rank) throw Fail(n, $"axis {n.Int("axis", 0)} is out of range for rank {rank}.");
        long d = data.Dims[axis];
        var idx = indices.AsInts().Select(i => i < 0 ? i + d : i).ToArray();
        if (idx.Any(i => i < 0 || i >= d)) throw Fail(n, $"an index of ({string.Join(", ", indices.AsInts())}) is out of range for a dimension of {d}.");
        var dims = data.Dims[..(int)axis].Concat(indices.Dims).Concat(data.Dims[((int)axis + 1)..]).ToArray();
        long outer = data.Dims[..(int)axis].Aggregate(1L, (a, b) => a * b), inner = data.Dims[((int)axis + 1)..].Aggregate(1L, (a, b) => a * b);
        Count(n, dims);
        var source = new List<long>();
        for (long o = 0; o < outer; o++)
            foreach (long i in idx)
                for (long j = 0; j < inner; j++) source.Add((o * d + i) * inner + j);
        return data.Ints is { } ints ? new(name, dims, null, source.Select(s => ints[s]).ToArray()) : new(name, dims, source.Select(s => data.Floats![s]).ToArray(), null);
    }

    /// <summary>ONNX Concat along <c>axis</c>; all ints stay ints, otherwise floats.</summary>
    private OnnxTensor Concat(OnnxNode n, OnnxTensor[] parts, string name)
    {
        if (parts.Length == 0) throw Fail(n, "it has no inputs.");
        int rank = parts[0].Dims.Length;
        long axis = n.Int("axis", 0);
        if (axis < 0) axis += rank;
        if (axis < 0 || axis >= rank || parts.Any(p => p.Dims.Length != rank || p.Dims.Where((x, i) => i != axis && x != parts[0].Dims[i]).Any()))
            throw Fail(n, $"its inputs of shapes {string.Join(", ", parts.Select(p => $"({string.Join(", ", p.Dims)})"))} do not join along axis {n.Int("axis", 0)}.");
        var dims = parts[0].Dims.ToArray();
        dims[axis] = parts.Sum(p => p.Dims[axis]);
        Count(n, dims);
        long outer = dims[..(int)axis].Aggregate(1L, (a, b) => a * b);
        bool ints = parts.All(p => p.Ints is not null);
        var li = new List<long>(); var lf = new List<float>();
        var flats = parts.Select(p => ints ? (object)p.Ints! : p.AsFloats()).ToArray();
        for (long o = 0; o < outer; o++)
            for (int k = 0; k < parts.Length; k++)
            {
                long block = parts[k].Count / Math.Max(1, outer);
                if (ints) li.AddRange(((long[])flats[k]).AsSpan((int)(o * block), (int)block));
                else lf.AddRange(((float[])flats[k]).AsSpan((int)(o * block), (int)block));
            }
        return ints ? new(name, dims, null, [.. li]) : new(name, dims, [.. lf], null);
    }

    /// <summary>ONNX Cast: to a float type (float, float16, double, bfloat16) or to an integer or bool type.</summary>
    private OnnxTensor Cast(OnnxNode n, OnnxTensor t, string name)
    {
        long to = n.Int("to", 1);
        if (to is 1 or 10 or 11 or 16) return new(name, t.Dims, t.AsFloats(), null);
        if (to is 2 or 3 or 4 or 5 or 6 or 7 or 12 or 13) return new(name, t.Dims, null, t.Ints ?? t.Floats!.Select(f => (long)f).ToArray());
        if (to == 9) return new(name, t.Dims, null, t.AsFloats().Select(f => f != 0 ? 1L : 0L).ToArray());
        throw Fail(n, $"casting to ONNX element type {to} is not supported.");
    }
}
