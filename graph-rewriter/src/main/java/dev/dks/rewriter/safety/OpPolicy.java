package dev.dks.rewriter.safety;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one table of TensorFlow ops whose effects reach outside the tensors (untrusted models,
 * issue 17): each op, when run, reads or writes files, opens a stream, or maps a file into memory.
 * A model from a stranger may hide one on its serving path, in its init op or in its restore op;
 * {@link OpScanner} finds them and the CLI refuses to write or run such a graph unless the user
 * names the op with {@code --allow-ops}. docs/untrusted-models.md holds the same table.
 *
 * <p>Why each group is here:
 *
 * <ul>
 *   <li><b>file</b>: {@code ReadFile} returns any file's bytes (a leak into outputs or weights);
 *       {@code WriteFile} writes any path; {@code MatchingFiles} lists directories; {@code
 *       ImmutableConst} memory-maps a file named in an attribute; {@code FileSystemSetConfiguration}
 *       reconfigures the process's file systems; {@code InitializeTableFromTextFile(V2)} and
 *       {@code GenerateVocabRemapping} read text files named by a string; {@code
 *       LoadAndRemapMatrix} reads a checkpoint named by a string; {@code DecodeProtoV2} and
 *       {@code EncodeProto} may load a descriptor file named in their {@code descriptor_source}.
 *   <li><b>checkpoint</b>: {@code Save}, {@code SaveV2}, {@code SaveSlices}, {@code
 *       MergeV2Checkpoints} write files; {@code Restore}, {@code RestoreV2}, {@code RestoreSlice}
 *       read any checkpoint; {@code DTensorRestoreV2}, {@code DistributedSave} and {@code
 *       CalibrationStatisticsSaver} read or write files too. The restore ops are allowed only as
 *       the saver's own restore, its path fed by the loader with the model's {@code variables/}
 *       (see {@link OpScanner}).
 *   <li><b>print</b>: {@code Print} and {@code PrintV2} write to stderr or to a file named by
 *       their {@code output_stream}.
 *   <li><b>summary</b>: the summary writer ops create and write event files or databases.
 *   <li><b>reader</b>: the queue readers open the files whose names they dequeue; {@code
 *       RecordInput} reads the files of a pattern.
 *   <li><b>dataset</b>: dataset ops that open, list, cache to or save to files, or to databases.
 *   <li><b>debug</b>: the tfdbg ops dump tensors to files or gRPC URLs named in attributes;
 *       {@code DumpTensor} writes a tensor to a file.
 *   <li><b>network</b>: the RPC ops open client or server connections.
 *   <li><b>python</b>: {@code PyFunc} and friends call Python code named in the graph.
 * </ul>
 */
public final class OpPolicy {
  private OpPolicy() {}

  private static final Map<String, String> OPS = table();

  private static Map<String, String> table() {
    Map<String, String> m = new LinkedHashMap<>();
    put(m, "file", "ReadFile", "WriteFile", "MatchingFiles", "ImmutableConst",
        "FileSystemSetConfiguration", "InitializeTableFromTextFile",
        "InitializeTableFromTextFileV2", "GenerateVocabRemapping", "LoadAndRemapMatrix",
        "DecodeProtoV2", "EncodeProto");
    put(m, "checkpoint", "Save", "SaveV2", "SaveSlices", "MergeV2Checkpoints", "Restore",
        "RestoreV2", "RestoreSlice", "DTensorRestoreV2", "DistributedSave",
        "CalibrationStatisticsSaver");
    put(m, "print", "Print", "PrintV2");
    put(m, "summary", "CreateSummaryFileWriter", "CreateSummaryDbWriter", "SummaryWriter",
        "WriteSummary", "WriteScalarSummary", "WriteHistogramSummary", "WriteImageSummary",
        "WriteAudioSummary", "WriteGraphSummary", "WriteRawProtoSummary", "ImportEvent",
        "FlushSummaryWriter", "CloseSummaryWriter", "StatsAggregatorSetSummaryWriter");
    put(m, "reader", "WholeFileReader", "WholeFileReaderV2", "TextLineReader",
        "TextLineReaderV2", "FixedLengthRecordReader", "FixedLengthRecordReaderV2",
        "TFRecordReader", "TFRecordReaderV2", "LMDBReader", "RecordInput");
    put(m, "dataset", "TFRecordDataset", "TFRecordDatasetV2", "TextLineDataset",
        "FixedLengthRecordDataset", "FixedLengthRecordDatasetV2", "MatchingFilesDataset",
        "ExperimentalMatchingFilesDataset", "LMDBDataset", "ExperimentalLMDBDataset",
        "SqlDataset", "ExperimentalSqlDataset", "CSVDataset", "CSVDatasetV2",
        "ExperimentalCSVDataset", "SnapshotDataset", "SnapshotDatasetV2", "SaveDataset",
        "SaveDatasetV2", "LoadDataset", "CacheDataset", "CacheDatasetV2", "DatasetToTFRecord",
        "ExperimentalDatasetToTFRecord", "DataServiceDataset", "DataServiceDatasetV2",
        "DataServiceDatasetV3", "DataServiceDatasetV4", "SnapshotChunkDataset",
        "ListSnapshotChunksDataset", "SnapshotDatasetReader", "SnapshotNestedDatasetReader");
    put(m, "debug", "DebugIdentity", "DebugIdentityV2", "DebugIdentityV3", "DebugNanCount",
        "DebugNumericSummary", "DebugNumericSummaryV2", "Copy", "CopyHost", "DumpTensor");
    put(m, "network", "RpcClient", "RpcServer", "RpcCall", "RpcServerRegister",
        "RpcServerStart");
    put(m, "python", "PyFunc", "PyFuncStateless", "EagerPyFunc");
    return Collections.unmodifiableMap(m);
  }

  private static void put(Map<String, String> m, String group, String... ops) {
    for (String op : ops) {
      m.put(op, group);
    }
  }

  /** Every op of the table with its group (file, checkpoint, print, ...), in table order. */
  public static Map<String, String> ops() {
    return OPS;
  }

  /** True when {@code op} has effects outside the tensors. */
  public static boolean isUnsafe(String op) {
    return OPS.containsKey(op);
  }

  /** The group of {@code op} (file, checkpoint, ...), or null when it is not in the table. */
  public static String group(String op) {
    return OPS.get(op);
  }

  /** The ops the saver's own restore may hold (checked for a pinned path by the scanner). */
  public static boolean isRestore(String op) {
    return op.equals("RestoreV2") || op.equals("Restore") || op.equals("RestoreSlice");
  }
}
