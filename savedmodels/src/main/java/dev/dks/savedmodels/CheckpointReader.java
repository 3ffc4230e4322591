package dev.dks.savedmodels;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * Reads tensors from a TensorFlow V2 checkpoint (an {@code .index} file plus data shards) through
 * the TF runtime: a small graph {@code RestoreV2(prefix, tensor_names, shape_and_slices)} run in a
 * throw-away session. The file format is never parsed here.
 */
public final class CheckpointReader {
  private CheckpointReader() {}

  /**
   * One tensor to read.
   *
   * @param key the checkpoint key, e.g. {@code conv/kernel} (TF1) or {@code
   *     layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE} (TF2 object-based)
   * @param slice the shape-and-slice spec, {@code ""} for the whole tensor
   * @param dtype the stored element type
   */
  public record Entry(String key, String slice, DataType dtype) {}

  /** True when {@code prefix.index} exists, i.e. {@code prefix} names a V2 checkpoint. */
  public static boolean exists(Path prefix) {
    return Files.isRegularFile(prefix.resolveSibling(prefix.getFileName() + ".index"));
  }

  /**
   * Reads {@code entries} from the checkpoint at {@code prefix} (e.g. {@code
   * dir/variables/variables}); returns the values by key, in the order asked.
   *
   * @throws org.tensorflow.exceptions.TensorFlowException when TensorFlow cannot read a key (its
   *     message names the key)
   */
  public static Map<String, TensorProto> read(Path prefix, List<Entry> entries) {
    Map<String, TensorProto> out = new LinkedHashMap<>();
    if (entries.isEmpty()) {
      return out;
    }
    String[] keys = entries.stream().map(Entry::key).toArray(String[]::new);
    String[] slices = entries.stream().map(Entry::slice).toArray(String[]::new);
    DataType[] dtypes = entries.stream().map(Entry::dtype).toArray(DataType[]::new);
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      GraphOperation restore = g.opBuilder("RestoreV2", "restore", tf.scope())
          .addInput(tf.constant(prefix.toString()).asOutput())
          .addInput(tf.constant(StandardCharsets.UTF_8, keys).asOutput())
          .addInput(tf.constant(StandardCharsets.UTF_8, slices).asOutput())
          .setAttr("dtypes", dtypes).build();
      try (Session s = new Session(g)) {
        Session.Runner r = s.runner();
        for (int i = 0; i < keys.length; i++) {
          r.fetch(restore.output(i));
        }
        try (Result res = r.run()) {
          for (int i = 0; i < keys.length; i++) {
            out.put(keys[i], TensorValues.toProto(res.get(i)));
          }
        }
      }
    }
    return out;
  }
}
