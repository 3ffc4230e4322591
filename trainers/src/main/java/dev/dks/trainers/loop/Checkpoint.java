package dev.dks.trainers.loop;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.dks.rewriter.io.AtomicFiles;
import dev.dks.trainers.data.Batch;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;
import org.tensorflow.proto.TensorProto;

/**
 * The training state needed to continue a run exactly: model variables, optimizer slots, the
 * number of completed steps, and what identifies the data order.
 *
 * <p><b>File format</b> (version 1, big-endian, one file): the 8 magic bytes {@code DKSCKPT\n};
 * int version; long step; byte hasSeed; long seed; long data fingerprint; then twice (variables,
 * then slots) an int count followed by that many entries {@code (modified-UTF-8 name, int length,
 * length bytes of a serialized TensorProto)}; finally a long CRC-32 of every preceding byte. A
 * truncated or corrupted file fails to load with an {@link IOException} instead of restoring
 * garbage. TensorProtos keep the exact float bits, so a restore is bit-exact.
 *
 * <p>{@link #save} writes atomically: to a temporary file in the same directory, forced to disk,
 * then moved over the target with {@link StandardCopyOption#ATOMIC_MOVE}; if anything fails
 * before the move, the temporary file is deleted and the previous checkpoint is untouched.
 *
 * @param step completed steps (the next step to run)
 * @param dataSeed the seed of the data order, if known
 * @param dataFingerprint {@link #fingerprint} of the batch of {@code step}, checked on resume
 * @param variables model variables by name, graph order
 * @param slots optimizer slots by name
 */
public record Checkpoint(long step, OptionalLong dataSeed, long dataFingerprint,
    Map<String, TensorProto> variables, Map<String, TensorProto> slots) {

  private static final byte[] MAGIC = "DKSCKPT\n".getBytes(StandardCharsets.US_ASCII);
  private static final int VERSION = 1;

  /** Copies the maps (keeping their order). */
  public Checkpoint {
    if (step < 0) {
      throw new IllegalArgumentException("step must be >= 0: " + step);
    }
    variables = Collections.unmodifiableMap(new LinkedHashMap<>(variables));
    slots = Collections.unmodifiableMap(new LinkedHashMap<>(slots));
  }

  /** Writes something to a stream; may fail with an {@link IOException}. */
  @FunctionalInterface
  public interface StreamWriter {
    /** Writes to {@code out} (not closing it). */
    void write(OutputStream out) throws IOException;
  }

  /**
   * A fingerprint of the examples (indices and labels) of a batch: what a resumed run checks to
   * be sure its data source gives the same order as the run that wrote the checkpoint.
   */
  public static long fingerprint(Batch batch) {
    long h = 0xCBF29CE484222325L;
    for (int i : batch.indices()) {
      h = (h ^ i) * 0x100000001B3L;
    }
    for (int l : batch.labels()) {
      h = (h ^ (l + 0x9E3779B9L)) * 0x100000001B3L;
    }
    return h;
  }

  /** Serializes to {@code out} in the format above (not closing it). */
  public void writeTo(OutputStream out) throws IOException {
    CheckedOutputStream checked = new CheckedOutputStream(out, new CRC32());
    DataOutputStream d = new DataOutputStream(checked);
    d.write(MAGIC);
    d.writeInt(VERSION);
    d.writeLong(step);
    d.writeBoolean(dataSeed.isPresent());
    d.writeLong(dataSeed.orElse(0));
    d.writeLong(dataFingerprint);
    writeMap(d, variables);
    writeMap(d, slots);
    d.flush();
    long crc = checked.getChecksum().getValue();
    new DataOutputStream(out).writeLong(crc);
    out.flush();
  }

  private static void writeMap(DataOutputStream d, Map<String, TensorProto> m)
      throws IOException {
    d.writeInt(m.size());
    for (Map.Entry<String, TensorProto> e : m.entrySet()) {
      d.writeUTF(e.getKey());
      byte[] bytes = e.getValue().toByteArray();
      d.writeInt(bytes.length);
      d.write(bytes);
    }
  }

  /** Reads one checkpoint from {@code in}; fails on a bad magic, version or checksum. */
  public static Checkpoint readFrom(InputStream in) throws IOException {
    CheckedInputStream checked = new CheckedInputStream(in, new CRC32());
    DataInputStream d = new DataInputStream(checked);
    byte[] magic = new byte[MAGIC.length];
    try {
      d.readFully(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new IOException("not a dks checkpoint (bad magic)");
      }
      int version = d.readInt();
      if (version != VERSION) {
        throw new IOException("unsupported checkpoint version " + version);
      }
      long step = d.readLong();
      boolean hasSeed = d.readBoolean();
      long seed = d.readLong();
      long fingerprint = d.readLong();
      Map<String, TensorProto> vars = readMap(d);
      Map<String, TensorProto> slots = readMap(d);
      long expected = checked.getChecksum().getValue();
      long stored = new DataInputStream(in).readLong();
      if (stored != expected) {
        throw new IOException("checkpoint checksum mismatch (corrupted file)");
      }
      return new Checkpoint(step, hasSeed ? OptionalLong.of(seed) : OptionalLong.empty(),
          fingerprint, vars, slots);
    } catch (EOFException e) {
      throw new IOException("truncated checkpoint", e);
    }
  }

  private static Map<String, TensorProto> readMap(DataInputStream d) throws IOException {
    int n = d.readInt();
    if (n < 0) {
      throw new IOException("negative entry count " + n);
    }
    Map<String, TensorProto> m = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      String name = d.readUTF();
      int len = d.readInt();
      if (len < 0) {
        throw new IOException("negative tensor length for " + name);
      }
      byte[] bytes = d.readNBytes(len);
      if (bytes.length != len) {
        throw new EOFException();
      }
      try {
        m.put(name, TensorProto.parseFrom(bytes));
      } catch (InvalidProtocolBufferException e) {
        throw new IOException("bad tensor " + name + ": " + e.getMessage(), e);
      }
    }
    return m;
  }

  /** Writes this checkpoint to {@code path} atomically (see the class comment). */
  public void save(Path path) throws IOException {
    writeAtomically(path, this::writeTo);
  }

  /** Loads a checkpoint written by {@link #save}. */
  public static Checkpoint load(Path path) throws IOException {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(path))) {
      Checkpoint c = readFrom(in);
      if (in.read() != -1) {
        throw new IOException(path + ": trailing bytes after the checkpoint");
      }
      return c;
    } catch (IOException e) {
      if (e.getMessage() != null && e.getMessage().startsWith(path.toString())) {
        throw e;
      }
      throw new IOException(path + ": " + e.getMessage(), e);
    }
  }

  /** {@link #load}, with I/O failures unchecked. */
  public static Checkpoint loadUnchecked(Path path) {
    try {
      return load(path);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Replaces {@code target} with what {@code writer} writes, atomically: the bytes go to a
   * temporary file {@code .<name>.<random>.tmp} in the same directory, which is forced to disk
   * and then moved over the target with {@code ATOMIC_MOVE}. If the writer (or anything before
   * the move) fails, the temporary file is deleted, the target keeps its previous content, and
   * the failure is rethrown.
   */
  public static void writeAtomically(Path target, StreamWriter writer) throws IOException {
    AtomicFiles.write(target, writer::write);
  }

}
