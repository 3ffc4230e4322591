package dev.dks.rewriter.passes.inline;

import java.util.Map;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.OpDef;

/**
 * How many tensors an {@link OpDef} argument stands for, given a node's (resolved) attributes:
 * one for a plain argument, {@code N} for a {@code number_attr} list, the list length for a
 * {@code type_list_attr} list. Attributes the node omits take the OpDef's default.
 */
final class ArgCounts {
  private ArgCounts() {}

  /** Tensors of {@code arg}, or -1 when the length attribute is missing and has no default. */
  static int size(OpDef.ArgDef arg, OpDef def, Map<String, AttrValue> attrs) {
    if (!arg.getNumberAttr().isEmpty()) {
      AttrValue v = attr(arg.getNumberAttr(), def, attrs);
      return v == null ? -1 : (int) v.getI();
    }
    if (!arg.getTypeListAttr().isEmpty()) {
      AttrValue v = attr(arg.getTypeListAttr(), def, attrs);
      return v == null ? -1 : v.getList().getTypeCount();
    }
    return 1;
  }

  /**
   * The flat output index of {@code outArg}'s element {@code idx}, or -1 when the arg is unknown
   * or a list length cannot be told.
   */
  static int flatOutputIndex(OpDef def, Map<String, AttrValue> attrs, String outArg, int idx) {
    int offset = 0;
    for (OpDef.ArgDef a : def.getOutputArgList()) {
      int n = size(a, def, attrs);
      if (a.getName().equals(outArg)) {
        return n < 0 || idx >= n ? -1 : offset + idx;
      }
      if (n < 0) {
        return -1;
      }
      offset += n;
    }
    return -1;
  }

  /** The element type of a single-tensor arg, or DT_INVALID when it cannot be told. */
  static DataType type(OpDef.ArgDef arg, OpDef def, Map<String, AttrValue> attrs) {
    if (arg.getType() != DataType.DT_INVALID) {
      return arg.getType();
    }
    if (!arg.getTypeAttr().isEmpty()) {
      AttrValue v = attr(arg.getTypeAttr(), def, attrs);
      return v == null ? DataType.DT_INVALID : v.getType();
    }
    return DataType.DT_INVALID;
  }

  /** The node's attribute or the OpDef's default for it, null if neither exists. */
  static AttrValue attr(String name, OpDef def, Map<String, AttrValue> attrs) {
    AttrValue v = attrs.get(name);
    if (v != null) {
      return v;
    }
    for (OpDef.AttrDef a : def.getAttrList()) {
      if (a.getName().equals(name) && a.hasDefaultValue()) {
        return a.getDefaultValue();
      }
    }
    return null;
  }
}
