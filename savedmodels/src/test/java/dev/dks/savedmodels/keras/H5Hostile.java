package dev.dks.savedmodels.keras;

import io.jhdf.HdfFile;
import io.jhdf.api.Node;
import io.jhdf.checksum.JenkinsLookup3HashLittle;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Makes hostile HDF5 files for the untrusted-model tests (issue 17) from a file jhdf wrote: jhdf
 * writes no external links or external storage, so this edits the bytes. The files jhdf writes
 * use superblock version 2 and version 2 object headers (checksummed with Jenkins lookup3, jhdf's
 * own {@link JenkinsLookup3HashLittle}); an object is changed by appending a new object header at
 * the end of the file and pointing its parent's link at it (the old header stays, unreferenced),
 * then fixing the end-of-file address and the checksums (HDF5 file format specification, version
 * 2 superblock, version 2 object header, Link, Data Layout and External Data Files messages, Local
 * Heap).
 */
final class H5Hostile {
  private H5Hostile() {}

  private static final int LINK = 0x06;
  private static final int EXTERNAL_FILES = 0x07;
  private static final int LAYOUT = 0x08;
  private static final long UNDEFINED = -1L;

  /** One object header message. */
  private record Msg(int type, int flags, byte[] data) {}

  /**
   * Replaces the hard link {@code name} of the group {@code group} (a path like {@code
   * model_weights/dense}) by an external link to object {@code object} of file {@code file}.
   */
  static void externalLink(Path h5, String group, String name, String file, String object)
      throws IOException {
    rewrite(h5, group, msgs -> {
      List<Msg> out = new ArrayList<>();
      for (Msg m : msgs) {
        out.add(m.type() == LINK && linkName(m.data()).equals(name)
            ? new Msg(LINK, m.flags(), externalLinkData(name, file, object)) : m);
      }
      return out;
    }, null, null);
  }

  /**
   * Makes the dataset {@code dataset} stored in the external file {@code file} (its contiguous
   * layout's address undefined, an External Data Files message naming {@code file} through a new
   * local heap), as h5py's {@code external=} does.
   */
  static void externalStorage(Path h5, String dataset, String file, long size) throws IOException {
    rewrite(h5, dataset, msgs -> msgs, (heapAddress, msgs) -> {
      List<Msg> out = new ArrayList<>();
      for (Msg m : msgs) {
        if (m.type() == LAYOUT) {
          ByteBuffer b = ByteBuffer.wrap(m.data().clone()).order(ByteOrder.LITTLE_ENDIAN);
          b.putLong(2, UNDEFINED); // version 3, class contiguous, then the address
          out.add(new Msg(LAYOUT, m.flags(), b.array()));
          out.add(new Msg(EXTERNAL_FILES, 0, externalFilesData(heapAddress, size)));
        } else {
          out.add(m);
        }
      }
      return out;
    }, file);
  }

  private interface WithHeap {
    List<Msg> apply(long heapAddress, List<Msg> msgs);
  }

  private static void rewrite(Path h5, String path, UnaryOperator<List<Msg>> edit,
      WithHeap heapEdit, String heapName) throws IOException {
    long address;
    long parent;
    try (HdfFile f = new HdfFile(h5)) {
      Node n = f.getByPath(path);
      address = n.getAddress();
      parent = n.getParent().getAddress();
    }
    byte[] file = Files.readAllBytes(h5);
    ByteArrayOutputStream tail = new ByteArrayOutputStream();
    tail.write(file);
    List<Msg> msgs = messages(file, address);
    if (heapEdit != null) {
      long heapAddress = tail.size();
      tail.write(localHeap(heapAddress, heapName));
      msgs = heapEdit.apply(heapAddress, msgs);
    } else {
      msgs = edit.apply(msgs);
    }
    long newAddress = tail.size();
    tail.write(header(msgs));
    byte[] out = tail.toByteArray();
    repoint(out, parent, address, newAddress);
    ByteBuffer sb = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    sb.putLong(28, out.length); // end-of-file address
    sb.putInt(44, JenkinsLookup3HashLittle.hash(java.util.Arrays.copyOf(out, 44)));
    Files.write(h5, out);
  }

  /** The messages of the version 2 object header at {@code at}. */
  private static List<Msg> messages(byte[] file, long at) {
    ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    int p = Math.toIntExact(at);
    if (file[p] != 'O' || file[p + 1] != 'H' || file[p + 4] != 2) {
      throw new IllegalArgumentException("not a version 2 object header at " + at);
    }
    int flags = file[p + 5] & 0xff;
    p += 6 + ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
    int sizeBytes = 1 << (flags & 3);
    long size = sizeBytes == 1 ? file[p] & 0xff : sizeBytes == 2 ? b.getShort(p) & 0xffff
        : sizeBytes == 4 ? b.getInt(p) & 0xffffffffL : b.getLong(p);
    p += sizeBytes;
    int end = Math.toIntExact(p + size);
    List<Msg> out = new ArrayList<>();
    int hdr = 4 + ((flags & 0x04) != 0 ? 2 : 0);
    while (p + hdr <= end) {
      int type = file[p] & 0xff;
      int len = b.getShort(p + 1) & 0xffff;
      int mflags = file[p + 3] & 0xff;
      out.add(new Msg(type, mflags, java.util.Arrays.copyOfRange(file, p + hdr, p + hdr + len)));
      p += hdr + len;
    }
    return out;
  }

  /** A version 2 object header with 4-byte chunk size, no times, and its checksum. */
  private static byte[] header(List<Msg> msgs) {
    int size = 0;
    for (Msg m : msgs) {
      size += 4 + m.data().length;
    }
    ByteBuffer b = ByteBuffer.allocate(10 + size + 4).order(ByteOrder.LITTLE_ENDIAN);
    b.put("OHDR".getBytes(StandardCharsets.US_ASCII)).put((byte) 2).put((byte) 0x02).putInt(size);
    for (Msg m : msgs) {
      b.put((byte) m.type()).putShort((short) m.data().length).put((byte) m.flags()).put(m.data());
    }
    b.putInt(JenkinsLookup3HashLittle.hash(java.util.Arrays.copyOf(b.array(), 10 + size)));
    return b.array();
  }

  /** Points the hard link of the header at {@code parent} that names {@code from} at {@code to}. */
  private static void repoint(byte[] file, long parent, long from, long to) {
    ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    int p = Math.toIntExact(parent);
    int flags = file[p + 5] & 0xff;
    int start = p + 6 + ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
    int sizeBytes = 1 << (flags & 3);
    long size = sizeBytes == 1 ? file[start] & 0xff : sizeBytes == 2
        ? b.getShort(start) & 0xffff : b.getInt(start) & 0xffffffffL;
    int end = Math.toIntExact(start + sizeBytes + size);
    boolean done = false;
    for (int i = start + sizeBytes; i + 8 <= end; i++) {
      if (b.getLong(i) == from) {
        b.putLong(i, to);
        done = true;
        break;
      }
    }
    if (!done) {
      throw new IllegalArgumentException("no link to " + from + " in the header at " + parent);
    }
    b.putInt(end, JenkinsLookup3HashLittle.hash(java.util.Arrays.copyOfRange(file, p, end)));
  }

  /** The name of a Link message (version 1) as jhdf writes it. */
  private static String linkName(byte[] d) {
    int flags = d[1] & 0xff;
    int p = 2 + ((flags & 0x08) != 0 ? 1 : 0) + ((flags & 0x04) != 0 ? 8 : 0)
        + ((flags & 0x10) != 0 ? 1 : 0);
    int lenBytes = 1 << (flags & 3);
    int len = lenBytes == 1 ? d[p] & 0xff : ByteBuffer.wrap(d, p, 2)
        .order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff;
    return new String(d, p + lenBytes, len, StandardCharsets.UTF_8);
  }

  /** An external Link message: type 64, the file and object names, each null-terminated. */
  private static byte[] externalLinkData(String name, String file, String object) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    byte[] f = file.getBytes(StandardCharsets.UTF_8);
    byte[] o = object.getBytes(StandardCharsets.UTF_8);
    int info = 1 + f.length + 1 + o.length + 1;
    ByteBuffer b = ByteBuffer.allocate(5 + n.length + 2 + info).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 1).put((byte) (0x08 | 0x10)).put((byte) 64).put((byte) 1).put((byte) n.length)
        .put(n).putShort((short) info).put((byte) 0).put(f).put((byte) 0).put(o).put((byte) 0);
    return b.array();
  }

  /** An External Data Files message: one slot, the name at offset 8 of the heap, offset 0. */
  private static byte[] externalFilesData(long heapAddress, long size) {
    ByteBuffer b = ByteBuffer.allocate(16 + 24).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 1).put(new byte[3]).putShort((short) 1).putShort((short) 1).putLong(heapAddress)
        .putLong(8).putLong(0).putLong(size);
    return b.array();
  }

  /** A local heap: an empty name at 0, {@code name} at 8, its data segment right after it. */
  private static byte[] localHeap(long at, String name) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    int data = (8 + n.length + 1 + 7) / 8 * 8;
    ByteBuffer b = ByteBuffer.allocate(32 + data).order(ByteOrder.LITTLE_ENDIAN);
    b.put("HEAP".getBytes(StandardCharsets.US_ASCII)).put((byte) 0).put(new byte[3])
        .putLong(data).putLong(UNDEFINED).putLong(at + 32);
    b.position(32 + 8);
    b.put(n);
    return b.array();
  }
}
