package dev.reliablestore.registry.clusapi;

import com.sun.jna.ptr.PointerByReference;
import dev.reliablestore.registry.clusapi.jna.ClusApi;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.CLUSTER_READ_BATCH_COMMAND;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HREGREADBATCH;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HREGREADBATCHREPLY;

import java.util.ArrayList;
import java.util.List;

/** A cluster-registry read batch: several value reads answered together, optionally isolated. */
final class NativeReadBatch {

    /**
     * One answer.
     *
     * @param command  {@code CLUSREG_READ_VALUE} or {@code CLUSREG_READ_ERROR}
     * @param options  the REG type, or the Win32 error for READ_ERROR
     * @param subkey   the subkey as requested (null: the batch's key)
     * @param value    the value name as requested
     * @param data     the value's bytes (empty on error)
     */
    record Answer(int command, int options, String subkey, String value, byte[] data) {
        boolean found() {
            return command == ClusApiTypes.CLUSREG_READ_VALUE;
        }
    }

    private NativeReadBatch() {
    }

    /** Reads {@code (subkey, value)} pairs below {@code key}; with {@code isolated}, from one consistent state. */
    static List<Answer> read(ClusApi api, ClusterKey key, List<String[]> reads, boolean isolated) {
        PointerByReference out = new PointerByReference();
        check("ClusterRegCreateReadBatch", api.ClusterRegCreateReadBatch(key.handle(), out));
        HREGREADBATCH batch = new HREGREADBATCH(out.getValue());
        PointerByReference replyOut = new PointerByReference();
        int rc;
        boolean added = false;
        try {
            for (String[] r : reads) {
                check("ClusterRegReadBatchAddCommand", api.ClusterRegReadBatchAddCommand(batch, r[0], r[1]));
            }
            added = true;
        } finally {
            // closing the batch is the only way to free it, and a successful close hands over a reply to free too
            rc = isolated ? api.ClusterRegCloseReadBatchEx(batch, ClusApiTypes.CLUSREG_DATABASE_ISOLATE_READ, replyOut)
                    : api.ClusterRegCloseReadBatch(batch, replyOut);
            if (!added && rc == ClusApiTypes.ERROR_SUCCESS) {
                api.ClusterRegCloseReadBatchReply(new HREGREADBATCHREPLY(replyOut.getValue()));
            }
        }
        check(isolated ? "ClusterRegCloseReadBatchEx" : "ClusterRegCloseReadBatch", rc);
        HREGREADBATCHREPLY reply = new HREGREADBATCHREPLY(replyOut.getValue());
        try {
            List<Answer> answers = new ArrayList<>(reads.size());
            while (true) {
                CLUSTER_READ_BATCH_COMMAND c = new CLUSTER_READ_BATCH_COMMAND();
                int next = api.ClusterRegReadBatchReplyNextCommand(reply, c);
                if (next == ClusApiTypes.ERROR_NO_MORE_ITEMS) {
                    break;
                }
                check("ClusterRegReadBatchReplyNextCommand", next);
                boolean ok = c.Command == ClusApiTypes.CLUSREG_READ_VALUE;
                answers.add(new Answer(c.Command, c.dwOptions, Utf16.fromNative(c.wzSubkeyName), Utf16.fromNative(c.wzValueName),
                        ok ? Utf16.bytes(c.lpData, c.cbData) : new byte[0]));
            }
            if (answers.size() != reads.size()) {
                throw new ClusterApiException("ClusterRegReadBatchReplyNextCommand", ClusApiTypes.ERROR_INVALID_DATA,
                        answers.size() + " answers for " + reads.size() + " reads");
            }
            return answers;
        } finally {
            api.ClusterRegCloseReadBatchReply(reply);
        }
    }

    private static void check(String function, int rc) {
        if (rc != ClusApiTypes.ERROR_SUCCESS) {
            throw new ClusterApiException(function, rc);
        }
    }
}
