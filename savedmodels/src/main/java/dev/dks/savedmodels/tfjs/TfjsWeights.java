package dev.dks.savedmodels.tfjs;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.savedmodels.BoundedFiles;
import dev.dks.savedmodels.ModelFormatException;
import dev.dks.savedmodels.ModelPaths;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Reads the weights of a TensorFlow.js model (graph or layers model): the {@code weightsManifest}
 * of {@code model.json}, a list of groups, each with the {@code paths} of its binary shards
 * (relative to the folder of {@code model.json}) and its {@code weights} ({@code name}, {@code
 * shape}, {@code dtype}, optional {@code quantization}). A group's shards are concatenated in
 * order and its weights follow each other in that buffer, little-endian, without padding.
 *
 * <p>Stored dtypes: {@code float32} and {@code int32} (4 bytes), {@code bool} (1 byte), {@code
 * string} (each element a little-endian uint32 byte length, then the bytes). Quantization, as
 * TF.js dequantizes it: {@code uint8} / {@code uint16} store {@code q} and the value is {@code q *
 * scale + min} (computed in double, rounded to float32; for {@code int32} weights rounded to the
 * nearest integer); {@code float16} stores IEEE half floats of a float32 weight. Values become
 * {@link TensorProto}s of the original dtype ({@code DT_FLOAT}, {@code DT_INT32}, {@code DT_BOOL},
 * {@code DT_STRING}) with {@code tensor_content} (or {@code string_val}).
 *
 * <p>Every problem is a {@link ModelFormatException} naming {@code model.json} and the weight or
 * shard: a missing or unreadable shard, shards shorter or longer than the manifest's weights need,
 * an unknown dtype or quantization, quantization metadata missing, a malformed manifest.
 */
public final class TfjsWeights {
  private TfjsWeights() {}

  /**
   * Reads every weight that {@code modelJson}'s manifest lists.
   *
   * @return values by weight name, in manifest order
   * @throws ModelFormatException naming the file (and the weight or shard) on any problem
   */
  public static Map<String, TensorProto> read(Path modelJson) {
    Path abs = modelJson.toAbsolutePath().normalize();
    Object root = TfjsGraphModelReader.parseJsonFile(abs);
    if (!(root instanceof Map<?, ?> m)) {
      throw new ModelFormatException(abs + " is not a TensorFlow.js model.json: the JSON is "
          + ProtoJson.kind(root) + ", not an object");
    }
    return read(abs, m.get("weightsManifest"));
  }

  /**
   * Reads the weights of a manifest already parsed by Jackson (null: no weights), for readers
   * that parse {@code model.json} themselves (the Keras layers-model reader).
   *
   * @param modelJson the model.json the manifest came from; shard paths resolve against its folder
   * @return values by weight name, in manifest order
   * @throws ModelFormatException naming the file (and the weight or shard) on any problem
   */
  public static Map<String, TensorProto> readTree(Path modelJson, JsonNode manifest) {
    return read(modelJson.toAbsolutePath().normalize(),
        manifest == null || manifest.isNull() ? null : Json.fromTree(manifest));
  }

  /** Reads the weights of the parsed manifest (null: no weights) of {@code modelJson}. */
  static Map<String, TensorProto> read(Path modelJson, Object manifest) {
    Map<String, TensorProto> out = new LinkedHashMap<>();
    if (manifest == null) {
      return out;
    }
    if (!(manifest instanceof List<?> groups)) {
      throw bad(modelJson, "weightsManifest is " + ProtoJson.kind(manifest)
          + ", expected an array of groups");
    }
    for (int g = 0; g < groups.size(); g++) {
      readGroup(modelJson, g, groups.get(g), out);
    }
    return out;
  }

  private record Spec(String name, long[] shape, String dtype, String qdtype, double scale,
      double min) {
    /** Element count; Long.MAX_VALUE when it overflows. */
    long count() {
      long n = 1;
      try {
        for (long d : shape) {
          n = Math.multiplyExact(n, d);
        }
      } catch (ArithmeticException e) {
        return Long.MAX_VALUE;
      }
      return n;
    }
  }

  private static void readGroup(Path modelJson, int g, Object group,
      Map<String, TensorProto> out) {
    String where = "weightsManifest[" + g + "]";
    if (!(group instanceof Map<?, ?> gm)) {
      throw bad(modelJson, where + " is " + ProtoJson.kind(group) + ", expected an object");
    }
    if (!(gm.get("paths") instanceof List<?> paths)) {
      throw bad(modelJson, where + ".paths is missing or not an array");
    }
    if (!(gm.get("weights") instanceof List<?> weights)) {
      throw bad(modelJson, where + ".weights is missing or not an array");
    }
    List<Spec> specs = new ArrayList<>();
    for (int i = 0; i < weights.size(); i++) {
      specs.add(spec(modelJson, where + ".weights[" + i + "]", weights.get(i)));
    }
    // read the shards
    Path dir = modelJson.getParent();
    List<byte[]> shards = new ArrayList<>();
    List<String> names = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    for (Object p : paths) {
      if (!(p instanceof String path) || path.isEmpty()) {
        throw bad(modelJson, where + ".paths holds " + ProtoJson.kind(p)
            + ", expected a file name");
      }
      files.add(ModelPaths.resolveInside(modelJson, dir, path, "the weight shard of " + where));
      names.add(path);
    }
    ShardBounds.check(modelJson, where, names, files, specs.stream()
        .map(s -> new ShardBounds.Decl(s.name, s.count(), s.dtype.equals("string") ? 4
            : s.qdtype == null ? (s.dtype.equals("bool") ? 1 : 4)
            : s.qdtype.equals("uint8") ? 1 : 2)).toList());
    long total = 0;
    for (int i = 0; i < files.size(); i++) {
      String path = names.get(i);
      Path file = files.get(i);
      byte[] bytes;
      try {
        bytes = BoundedFiles.readAllBytes(file);
      } catch (NoSuchFileException e) {
        throw bad(modelJson, "the weight shard '" + path + "' (" + file + ") is missing");
      } catch (IOException e) {
        throw new ModelFormatException(modelJson + ": cannot read the weight shard '" + path
            + "' (" + file + "): " + e, e);
      }
      shards.add(bytes);
      total += bytes.length;
    }
    if (total > Integer.MAX_VALUE - 16) {
      throw bad(modelJson, where + ": the shards hold " + total + " bytes, more than 2 GB");
    }
    ByteBuffer buf = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
    shards.forEach(buf::put);
    buf.flip();
    for (Spec s : specs) {
      int start = buf.position();
      TensorProto t;
      try {
        t = decode(s, buf);
      } catch (ShortBuffer e) {
        throw bad(modelJson, "weight '" + s.name + "' (" + s.dtype
            + (s.qdtype == null ? "" : " quantized as " + s.qdtype) + ", shape "
            + Arrays.toString(s.shape) + ") needs bytes " + start + ".." + e.end + " of group "
            + g + ", but its shards " + names + " hold only " + total
            + " bytes: a shard is truncated or the manifest's shape is wrong");
      }
      if (out.put(s.name, t) != null) {
        throw bad(modelJson, "weight '" + s.name + "' is listed twice in weightsManifest");
      }
    }
    if (buf.hasRemaining()) {
      throw bad(modelJson, "the shards " + names + " of group " + g + " hold " + total
          + " bytes, but the manifest's weights use only " + buf.position() + ": a shard does "
          + "not belong to this model or the manifest's shapes are wrong");
    }
  }

  private static Spec spec(Path modelJson, String where, Object w) {
    if (!(w instanceof Map<?, ?> m)) {
      throw bad(modelJson, where + " is " + ProtoJson.kind(w) + ", expected an object");
    }
    if (!(m.get("name") instanceof String name)) {
      throw bad(modelJson, where + " has no name");
    }
    String at = "weight '" + name + "'";
    if (!(m.get("shape") instanceof List<?> dims)) {
      throw bad(modelJson, at + " has no shape array");
    }
    long[] shape = new long[dims.size()];
    for (int i = 0; i < shape.length; i++) {
      if (!(dims.get(i) instanceof Long d) || d < 0) {
        throw bad(modelJson, at + " has a bad shape " + dims + ": dimensions must be "
            + "non-negative integers");
      }
      shape[i] = d;
    }
    if (!(m.get("dtype") instanceof String dtype)) {
      throw bad(modelJson, at + " has no dtype");
    }
    if (!List.of("float32", "int32", "bool", "string").contains(dtype)) {
      throw bad(modelJson, at + " has dtype '" + dtype + "', which this reader does not know "
          + "(known: float32, int32, bool, string)");
    }
    Object q = m.get("quantization");
    if (q == null) {
      return new Spec(name, shape, dtype, null, 0, 0);
    }
    if (!(q instanceof Map<?, ?> qm) || !(qm.get("dtype") instanceof String qdtype)) {
      throw bad(modelJson, at + " has a quantization without a dtype");
    }
    switch (qdtype) {
      case "uint8", "uint16" -> {
        if (!dtype.equals("float32") && !dtype.equals("int32")) {
          throw bad(modelJson, at + ": " + qdtype + " quantization of a " + dtype
              + " weight is not supported (only float32 and int32)");
        }
        if (!(qm.get("scale") instanceof Number scale) || !(qm.get("min") instanceof Number min)) {
          throw bad(modelJson, at + " is quantized as " + qdtype + " but its quantization "
              + "lacks a numeric scale or min");
        }
        return new Spec(name, shape, dtype, qdtype, scale.doubleValue(), min.doubleValue());
      }
      case "float16" -> {
        if (!dtype.equals("float32")) {
          throw bad(modelJson, at + ": float16 quantization of a " + dtype
              + " weight is not supported (only float32)");
        }
        return new Spec(name, shape, dtype, qdtype, 0, 0);
      }
      default -> throw bad(modelJson, at + " has quantization dtype '" + qdtype
          + "', which this reader does not know (known: uint8, uint16, float16)");
    }
  }

  /** The next weight in {@code buf}; advances it. */
  private static TensorProto decode(Spec s, ByteBuffer buf) throws ShortBuffer {
    long count = s.count();
    TensorShapeProto shape = TensorProtos.shapeProto(s.shape);
    if (s.dtype.equals("string")) {
      TensorProto.Builder b = TensorProto.newBuilder().setDtype(DataType.DT_STRING)
          .setTensorShape(shape);
      for (long i = 0; i < count; i++) {
        need(buf, 4);
        long len = Integer.toUnsignedLong(buf.getInt());
        need(buf, len);
        byte[] bytes = new byte[(int) len];
        buf.get(bytes);
        b.addStringVal(ByteString.copyFrom(bytes));
      }
      return b.build();
    }
    int stored = s.qdtype == null ? (s.dtype.equals("bool") ? 1 : 4)
        : s.qdtype.equals("uint8") ? 1 : 2;
    need(buf, count > Integer.MAX_VALUE ? Long.MAX_VALUE : count * stored);
    int n = (int) count;
    DataType dt = switch (s.dtype) {
      case "float32" -> DataType.DT_FLOAT;
      case "int32" -> DataType.DT_INT32;
      default -> DataType.DT_BOOL;
    };
    ByteBuffer content;
    if (s.qdtype == null) {
      byte[] raw = new byte[n * stored];
      buf.get(raw);
      content = ByteBuffer.wrap(raw);
    } else {
      content = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < n; i++) {
        if (s.qdtype.equals("float16")) {
          content.putFloat(Float16.toFloat(buf.getShort() & 0xFFFF));
          continue;
        }
        int q = s.qdtype.equals("uint8") ? buf.get() & 0xFF : buf.getShort() & 0xFFFF;
        double v = q * s.scale + s.min;
        if (dt == DataType.DT_INT32) {
          content.putInt((int) jsRound(v));
        } else {
          content.putFloat((float) v);
        }
      }
      content.flip();
    }
    return TensorProto.newBuilder().setDtype(dt).setTensorShape(shape)
        .setTensorContent(ByteString.copyFrom(content)).build();
  }

  /** JavaScript's Math.round: halves round up (towards +infinity). */
  private static double jsRound(double v) {
    return Math.floor(v + 0.5);
  }

  private static void need(ByteBuffer buf, long bytes) throws ShortBuffer {
    if (buf.remaining() < bytes) {
      throw new ShortBuffer(bytes == Long.MAX_VALUE ? bytes : buf.position() + bytes);
    }
  }

  private static ModelFormatException bad(Path modelJson, String what) {
    return new ModelFormatException(modelJson + ": " + what);
  }

  /** The buffer ends before a weight does. */
  private static final class ShortBuffer extends Exception {
    private static final long serialVersionUID = 1L;
    final long end;

    ShortBuffer(long end) {
      super(null, null, false, false);
      this.end = end;
    }
  }
}
