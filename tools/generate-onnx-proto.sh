#!/usr/bin/env bash
# Regenerates src/Dendrite/Serialization/OnnxProto/Onnx.g.cs from onnx.proto beside it, with protoc from the
# Google.Protobuf.Tools NuGet package (restored into a scratch folder, never into the repository). The generated file is
# committed, so building Dendrite needs no protoc; run this only after editing onnx.proto.
# Keep the version equal to the Google.Protobuf runtime that src/Dendrite/Dendrite.csproj references.
set -euo pipefail
cd "$(dirname "$0")/.."
version=3.36.2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cat > "$scratch/tools.csproj" <<PROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="Google.Protobuf.Tools" Version="[$version]" /></ItemGroup>
</Project>
PROJ
dotnet restore "$scratch/tools.csproj" --packages "$scratch/packages" >/dev/null
case "$(uname -m)" in
  x86_64) arch=linux_x64 ;;
  aarch64) arch=linux_aarch64 ;;
  *) echo "no protoc in Google.Protobuf.Tools for $(uname -m)" >&2; exit 1 ;;
esac
tools="$scratch/packages/google.protobuf.tools/$version/tools"
chmod +x "$tools/$arch/protoc"
dir=src/Dendrite/Serialization/OnnxProto
# internal_access: the messages are Dendrite's implementation, not its public API.
"$tools/$arch/protoc" --proto_path="$dir" --csharp_out="$dir" --csharp_opt=file_extension=.g.cs,internal_access "$dir/onnx.proto"
echo "wrote $dir/Onnx.g.cs"
