package dev.dks.savedmodels.keras;

import dev.dks.savedmodels.ModelFormatException;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.lang.reflect.Array;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the layer weights of a Keras HDF5 file: the group {@code model_weights} (or the root, for
 * files written by {@code save_weights}) lists its layers in the attribute {@code layer_names};
 * each layer group lists its weights in {@code weight_names}, paths relative to the layer group
 * such as {@code conv2d/kernel:0}. Float64 and float16 datasets are converted to float32.
 */
final class H5Weights {
  private H5Weights() {}

  /** Weights by layer name, each list in the file's order. */
  static Map<String, List<KerasWeight>> read(Group root) {
    Node mw = root.getChildren().get("model_weights");
    Group g = mw instanceof Group grp ? grp : root;
    List<String> layers = strings(g, "layer_names");
    if (layers == null) {
      layers = new ArrayList<>();
      for (Node n : g.getChildren().values()) {
        if (n instanceof Group) {
          layers.add(n.getName());
        }
      }
    }
    Map<String, List<KerasWeight>> out = new LinkedHashMap<>();
    for (String layer : layers) {
      Node ln = g.getChildren().get(layer);
      if (!(ln instanceof Group lg)) {
        throw new ModelFormatException("layer_names lists '" + layer + "' but "
            + g.getPath() + " has no such group");
      }
      List<String> names = strings(lg, "weight_names");
      List<KerasWeight> ws = new ArrayList<>();
      for (String wn : names == null ? List.<String>of() : names) {
        Node dn = lg.getByPath(wn);
        if (!(dn instanceof Dataset ds)) {
          throw new ModelFormatException("layer '" + layer + "' lists weight '" + wn
              + "' but " + lg.getPath() + wn + " is not a dataset");
        }
        ws.add(weight(wn, ds));
      }
      out.put(layer, ws);
    }
    return out;
  }

  /** The root attribute {@code model_config} as a string, or null. */
  static String modelConfig(Group root) {
    Attribute a = root.getAttributes().get("model_config");
    if (a == null) {
      return null;
    }
    Object d = a.getData();
    if (d instanceof String s) {
      return s;
    }
    if (d instanceof byte[] b) {
      return new String(b, StandardCharsets.UTF_8);
    }
    if (d instanceof String[] s && s.length == 1) {
      return s[0];
    }
    throw new ModelFormatException("the attribute model_config is not a string (it is a "
        + (d == null ? "null" : d.getClass().getSimpleName()) + ")");
  }

  private static KerasWeight weight(String name, Dataset ds) {
    int[] dims = ds.getDimensions();
    long[] shape = new long[dims.length];
    long n = 1;
    for (int i = 0; i < dims.length; i++) {
      shape[i] = dims[i];
      n = Math.multiplyExact(n, dims[i]);
    }
    H5Bounds.check(name, ds); // before jhdf allocates (issue 17)
    Object flat = ds.isScalar() ? ds.getData() : ds.getDataFlat();
    float[] v;
    if (flat instanceof float[] f) {
      v = f;
    } else if (flat instanceof double[] d) {
      v = new float[d.length];
      for (int i = 0; i < d.length; i++) {
        v[i] = (float) d[i];
      }
    } else if (flat instanceof Number num) {
      v = new float[] {num.floatValue()};
    } else if (flat != null && flat.getClass().isArray()
        && Number.class.isAssignableFrom(flat.getClass().getComponentType())) {
      v = new float[Array.getLength(flat)];
      for (int i = 0; i < v.length; i++) {
        v[i] = ((Number) Array.get(flat, i)).floatValue();
      }
    } else {
      throw new ModelFormatException("weight '" + name + "' is not a float dataset (java type "
          + ds.getJavaType() + ")");
    }
    if (v.length != n) {
      throw new ModelFormatException("weight '" + name + "' holds " + v.length
          + " values for shape " + java.util.Arrays.toString(shape));
    }
    return new KerasWeight(name, shape, v);
  }

  /** A string-list attribute (absent, empty or null: null). */
  private static List<String> strings(Node n, String attr) {
    Attribute a = n.getAttributes().get(attr);
    if (a == null) {
      return null;
    }
    Object d = a.getData();
    if (d == null) {
      return List.of();
    }
    if (d instanceof String s) {
      return List.of(s);
    }
    List<String> out = new ArrayList<>();
    if (d.getClass().isArray()) {
      for (int i = 0; i < Array.getLength(d); i++) {
        Object e = Array.get(d, i);
        out.add(e instanceof byte[] b ? new String(b, StandardCharsets.UTF_8)
            : String.valueOf(e));
      }
      return out;
    }
    throw new ModelFormatException("the attribute " + attr + " of " + n.getPath()
        + " is not a list of strings");
  }
}
