package dev.dks.savedmodels.tfjs;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Fills a protobuf message from its proto3 JSON form (as {@link Json} parsed it), driven by the
 * message descriptors, so every message a TF.js {@code modelTopology} holds (GraphDef, NodeDef,
 * AttrValue with its oneof, TensorProto, TensorShapeProto, FunctionDefLibrary, ...) maps the same
 * way. The proto3 JSON rules it follows: field names in lowerCamelCase or as declared; 64-bit
 * integers as strings or numbers; bytes as base64 (standard or URL-safe); enums by name or number;
 * floats also as {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"}; maps as objects; null
 * meaning "not set". A field the descriptor does not have is skipped and reported through the
 * warning sink; any other mismatch is a {@link ProtoJsonException} naming the JSON path.
 */
final class ProtoJson {
  private static final Map<Descriptor, Map<String, FieldDescriptor>> FIELDS =
      new ConcurrentHashMap<>();

  private ProtoJson() {}

  /** A value that does not fit the message's schema; the message names the JSON path. */
  static final class ProtoJsonException extends Exception {
    private static final long serialVersionUID = 1L;

    ProtoJsonException(String message) {
      super(message);
    }
  }

  /** Receives one line per JSON field the schema does not know. */
  interface Warnings {
    /** Records that {@code path} was ignored. */
    void unknownField(String path);
  }

  /**
   * Merges the JSON object {@code json} into {@code b}; {@code path} names the object in
   * messages (e.g. {@code modelTopology}).
   */
  static void merge(Object json, Message.Builder b, String path, Warnings warnings)
      throws ProtoJsonException {
    if (!(json instanceof Map<?, ?> m)) {
      throw new ProtoJsonException(path + ": expected a JSON object for "
          + b.getDescriptorForType().getName() + ", found " + kind(json));
    }
    Map<String, FieldDescriptor> fields = fieldsOf(b.getDescriptorForType());
    for (Map.Entry<?, ?> e : m.entrySet()) {
      String key = (String) e.getKey();
      String at = path + "." + key;
      FieldDescriptor fd = fields.get(key);
      if (fd == null) {
        warnings.unknownField(at);
        continue;
      }
      Object v = e.getValue();
      if (v == null) {
        continue;
      }
      if (fd.isMapField()) {
        mergeMap(fd, v, b, at, warnings);
      } else if (fd.isRepeated()) {
        if (!(v instanceof List<?> list)) {
          throw new ProtoJsonException(at + ": expected a JSON array, found " + kind(v));
        }
        for (int i = 0; i < list.size(); i++) {
          Object item = list.get(i);
          String itemPath = at + "[" + i + "]" + nameOf(item);
          if (item == null) {
            throw new ProtoJsonException(itemPath + ": null inside a repeated field");
          }
          b.addRepeatedField(fd, convert(fd, item, b, itemPath, warnings));
        }
      } else {
        b.setField(fd, convert(fd, v, b, at, warnings));
      }
    }
  }

  private static void mergeMap(FieldDescriptor fd, Object v, Message.Builder b, String at,
      Warnings warnings) throws ProtoJsonException {
    if (!(v instanceof Map<?, ?> entries)) {
      throw new ProtoJsonException(at + ": expected a JSON object (a map), found " + kind(v));
    }
    Descriptor entryType = fd.getMessageType();
    FieldDescriptor keyFd = entryType.findFieldByName("key");
    FieldDescriptor valueFd = entryType.findFieldByName("value");
    for (Map.Entry<?, ?> e : entries.entrySet()) {
      String k = (String) e.getKey();
      String entryPath = at + "." + k;
      if (e.getValue() == null) {
        throw new ProtoJsonException(entryPath + ": null map value");
      }
      Message.Builder eb = b.newBuilderForField(fd);
      eb.setField(keyFd, mapKey(keyFd, k, entryPath));
      eb.setField(valueFd, convert(valueFd, e.getValue(), eb, entryPath, warnings));
      b.addRepeatedField(fd, eb.build());
    }
  }

  private static Object mapKey(FieldDescriptor keyFd, String k, String at)
      throws ProtoJsonException {
    return switch (keyFd.getJavaType()) {
      case STRING -> k;
      case BOOLEAN -> {
        if (!k.equals("true") && !k.equals("false")) {
          throw new ProtoJsonException(at + ": map key '" + k + "' is not a boolean");
        }
        yield Boolean.parseBoolean(k);
      }
      default -> convert(keyFd, k, null, at, null);
    };
  }

  /** Converts one JSON value to the Java value protobuf reflection expects for {@code fd}. */
  private static Object convert(FieldDescriptor fd, Object v, Message.Builder parent, String at,
      Warnings warnings) throws ProtoJsonException {
    switch (fd.getJavaType()) {
      case INT: {
        long x = integral(v, at);
        boolean unsigned = fd.getType() == FieldDescriptor.Type.UINT32
            || fd.getType() == FieldDescriptor.Type.FIXED32;
        if (unsigned ? (x < 0 || x > 0xFFFFFFFFL)
            : (x < Integer.MIN_VALUE || x > Integer.MAX_VALUE)) {
          throw new ProtoJsonException(at + ": " + v + " does not fit a 32-bit integer");
        }
        return (int) x;
      }
      case LONG: {
        boolean unsigned = fd.getType() == FieldDescriptor.Type.UINT64
            || fd.getType() == FieldDescriptor.Type.FIXED64;
        if (unsigned && v instanceof String str) {
          try {
            return Long.parseUnsignedLong(str.strip());
          } catch (NumberFormatException e) {
            throw new ProtoJsonException(at + ": '" + str + "' is not an unsigned integer");
          }
        }
        return integral(v, at);
      }
      case FLOAT:
        return (float) floating(v, at);
      case DOUBLE:
        return floating(v, at);
      case BOOLEAN:
        if (v instanceof Boolean bool) {
          return bool;
        }
        throw new ProtoJsonException(at + ": expected true or false, found " + kind(v));
      case STRING:
        if (v instanceof String str) {
          return str;
        }
        throw new ProtoJsonException(at + ": expected a string, found " + kind(v));
      case BYTE_STRING:
        if (v instanceof String str) {
          try {
            return ByteString.copyFrom(str.indexOf('-') >= 0 || str.indexOf('_') >= 0
                ? Base64.getUrlDecoder().decode(str) : Base64.getDecoder().decode(str));
          } catch (IllegalArgumentException e) {
            throw new ProtoJsonException(at + ": '" + abbreviate(str) + "' is not base64 ("
                + e.getMessage() + ")");
          }
        }
        throw new ProtoJsonException(at + ": expected a base64 string, found " + kind(v));
      case ENUM:
        return enumValue(fd.getEnumType(), v, at);
      case MESSAGE: {
        Message.Builder nb = parent.newBuilderForField(fd);
        merge(v, nb, at, warnings);
        return nb.build();
      }
      default:
        throw new ProtoJsonException(at + ": unsupported field type " + fd.getJavaType());
    }
  }

  private static EnumValueDescriptor enumValue(EnumDescriptor type, Object v, String at)
      throws ProtoJsonException {
    if (v instanceof String name) {
      EnumValueDescriptor d = type.findValueByName(name);
      if (d == null) {
        throw new ProtoJsonException(at + ": unknown " + type.getName() + " value '" + name
            + "'");
      }
      return d;
    }
    if (v instanceof Long || v instanceof Double) {
      long n = integral(v, at);
      EnumValueDescriptor d = type.findValueByNumber((int) n);
      if (d == null || n != (int) n) {
        throw new ProtoJsonException(at + ": unknown " + type.getName() + " number " + v);
      }
      return d;
    }
    throw new ProtoJsonException(at + ": expected a " + type.getName() + " name, found "
        + kind(v));
  }

  private static long integral(Object v, String at) throws ProtoJsonException {
    if (v instanceof Long l) {
      return l;
    }
    if (v instanceof Double d) {
      if (d == Math.rint(d) && Math.abs(d) < 0x1p63) {
        return d.longValue();
      }
      throw new ProtoJsonException(at + ": " + v + " is not an integer");
    }
    if (v instanceof String str) {
      try {
        return Long.parseLong(str.strip());
      } catch (NumberFormatException e) {
        try {
          double d = Double.parseDouble(str.strip());
          if (d == Math.rint(d) && Math.abs(d) < 0x1p63) {
            return (long) d;
          }
        } catch (NumberFormatException ignored) {
          // reported below
        }
        throw new ProtoJsonException(at + ": '" + abbreviate(str) + "' is not an integer");
      }
    }
    throw new ProtoJsonException(at + ": expected an integer, found " + kind(v));
  }

  private static double floating(Object v, String at) throws ProtoJsonException {
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    if (v instanceof String str) {
      switch (str) {
        case "NaN":
          return Double.NaN;
        case "Infinity":
          return Double.POSITIVE_INFINITY;
        case "-Infinity":
          return Double.NEGATIVE_INFINITY;
        default:
          try {
            return Double.parseDouble(str.strip());
          } catch (NumberFormatException e) {
            throw new ProtoJsonException(at + ": '" + abbreviate(str) + "' is not a number");
          }
      }
    }
    throw new ProtoJsonException(at + ": expected a number, found " + kind(v));
  }

  private static Map<String, FieldDescriptor> fieldsOf(Descriptor d) {
    return FIELDS.computeIfAbsent(d, k -> {
      Map<String, FieldDescriptor> m = new HashMap<>();
      for (FieldDescriptor f : k.getFields()) {
        m.put(f.getName(), f);
        m.put(f.getJsonName(), f);
      }
      return m;
    });
  }

  /** {@code ('name')} when the JSON object has a string "name" (to name nodes in paths). */
  private static String nameOf(Object item) {
    if (item instanceof Map<?, ?> m && m.get("name") instanceof String n) {
      return "('" + n + "')";
    }
    return "";
  }

  /** What a JSON value is, for messages. */
  static String kind(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof Map) {
      return "an object";
    }
    if (v instanceof List) {
      return "an array";
    }
    if (v instanceof String str) {
      return "the string '" + abbreviate(str) + "'";
    }
    if (v instanceof Boolean) {
      return "the boolean " + v;
    }
    return "the number " + v;
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 37) + "...";
  }
}
