package dev.reliablestore.cluster.audit;

import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.registry.embedded.FaultyChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An append that fails part-way (a full disk) or whose force fails leaves nothing behind: the next
 * acknowledged record follows the last one in the chain, as if the failed one had never been tried.
 */
class AuditLogFailedAppendTest {

    @TempDir
    Path dir;

    private static List<AuditLog.Entry> save(String id) {
        return List.of(new AuditLog.Entry("save", "alice", "/root", "Customer", id, 1, null));
    }

    @Test
    void aTornAppendIsCutOffAndTheNextRecordContinuesTheChain() {
        assertFailedAppendLeavesNothing(f -> {
            f.failWrites = true; // a full disk: part of the record reaches the file, then the write fails
            f.partialBytes = 40;
        });
    }

    @Test
    void anAppendWhoseForceFailedIsCutOffAndTheNextRecordContinuesTheChain() {
        assertFailedAppendLeavesNothing(f -> f.failForce = true);
    }

    private void assertFailedAppendLeavesNothing(java.util.function.Consumer<FaultyChannel.Faults> fault) {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        Path file;
        try (AuditLog log = AuditLog.open(dir, "node-1", real -> FaultyChannel.wrap(real, faults))) {
            file = log.file();
            log.append(save("a"));
            fault.accept(faults);
            assertThatThrownBy(() -> log.append(save("b"))).isInstanceOf(PersistenceException.class)
                    .hasMessageContaining("the operation was committed");
            faults.failWrites = false;
            faults.failForce = false;
            log.append(save("c"));
        }
        assertThat(AuditLog.read(file)).extracting(AuditRecord::id).containsExactly("a", "c");
        assertThat(AuditLog.read(file)).extracting(AuditRecord::seq).containsExactly(1L, 2L);
        assertThat(AuditLog.verify(file).problems()).isEmpty();
        try (AuditLog reopened = AuditLog.open(dir, "node-1")) {
            reopened.append(save("d"));
        }
        assertThat(AuditLog.verify(file).intact()).isTrue();
        assertThat(AuditLog.read(file)).extracting(AuditRecord::id).containsExactly("a", "c", "d");
    }
}
