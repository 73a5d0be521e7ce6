package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A read batch over values that writers rewrite without pause is still the state of one commit
 * sequence: the batch is rolled forward with the change log instead of being repeated until a
 * quiet gap that never comes. Every answer is compared with what the writers committed at or
 * before the batch's sequence.
 */
class ZooKeeperReadBatchSnapshotTest {

    static {
        ZkTestSupport.init();
    }

    private static TestingServer server;

    @BeforeAll
    static void start() throws Exception {
        server = new TestingServer(true);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private static final RegistryPath WIDE = RegistryPath.of("wide");
    private static final RegistryPath SINGLE = RegistryPath.of("single");
    private static final RegistryPath KIDS = RegistryPath.of("kids");
    private static final int VALUES = 20;

    /** Every batch writes k everywhere, and leaves exactly one child n(k mod 3) below kids. */
    private static WriteBatch write(long k) {
        WriteBatch.Builder b = WriteBatch.builder();
        for (int v = 0; v < VALUES; v++) {
            b.setValue(WIDE, "v" + v, RegistryValue.qword(k));
        }
        b.setValue(SINGLE, "x", RegistryValue.qword(k));
        b.deleteKey(KIDS.child("n" + ((k + 1) % 3))).deleteKey(KIDS.child("n" + ((k + 2) % 3)));
        b.setValue(KIDS.child("n" + (k % 3)), "k", RegistryValue.qword(k));
        return b.build();
    }

    @Test
    void readBatchesUnderWritersThatNeverPauseShowOneSequenceExactly() throws Exception {
        try (ZooKeeperRegistry registry = ZkTestSupport.open(server.getConnectString(), ZkTestSupport.freshChroot("rollforward"), ZkTestSupport.options())) {
            ConcurrentSkipListMap<Long, Long> committed = new ConcurrentSkipListMap<>();
            committed.put(registry.commit(write(0)).sequence(), 0L);
            AtomicBoolean stop = new AtomicBoolean();
            List<Throwable> failures = new CopyOnWriteArrayList<>();
            List<Thread> writers = new ArrayList<>();
            for (int w = 0; w < 3; w++) {
                long base = (w + 1) * 1_000_000L;
                Thread t = new Thread(() -> {
                    try {
                        for (long i = 1; !stop.get(); i++) {
                            committed.put(registry.commit(write(base + i)).sequence(), base + i);
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, "writer-" + w);
                t.start();
                writers.add(t);
            }
            List<ReadBatchResult> reads = new ArrayList<>();
            try {
                for (int round = 0; round < 200 && (round < 30 || registry.readsRolledForward.get() < 3); round++) {
                    reads.add(registry.read(ReadBatch.of(new ReadBatch.ValuesRead(WIDE), new ReadBatch.ValueRead(SINGLE, "x"),
                            new ReadBatch.SubkeysRead(KIDS), new ReadBatch.ValuesRead(KIDS.child("n0")))));
                }
            } finally {
                stop.set(true);
                for (Thread t : writers) {
                    t.join(30_000);
                }
            }
            // checked once every writer has recorded what it committed
            List<String> problems = new ArrayList<>();
            for (ReadBatchResult r : reads) {
                Map.Entry<Long, Long> floor = committed.floorEntry(r.sequence());
                if (floor == null) {
                    problems.add("sequence " + r.sequence() + " is before every commit");
                    continue;
                }
                long k = floor.getValue();
                Map<String, VersionedValue> wide = r.values(0).orElseThrow();
                assertThat(wide).hasSize(VALUES);
                for (VersionedValue v : wide.values()) {
                    if (v.value().asQword() != k || v.revision() != floor.getKey()) {
                        problems.add("at sequence " + r.sequence() + " expected " + k + "@" + floor.getKey() + ", read " + v.value().asQword() + "@" + v.revision());
                        break;
                    }
                }
                if (r.value(1).orElseThrow().value().asQword() != k) {
                    problems.add("single at sequence " + r.sequence() + " is " + r.value(1).orElseThrow().value().asQword() + ", expected " + k);
                }
                if (!r.subkeys(2).orElseThrow().equals(List.of("n" + (k % 3)))) {
                    problems.add("children at sequence " + r.sequence() + " are " + r.subkeys(2) + ", expected n" + (k % 3));
                }
                if (r.values(3).isPresent() != (k % 3 == 0)) {
                    problems.add("n0 at sequence " + r.sequence() + " is " + r.values(3) + " for k " + k);
                }
            }
            assertThat(failures).isEmpty();
            assertThat(problems).isEmpty();
            assertThat(registry.readsRolledForward.get()).as("batches answered by rolling forward with the change log").isPositive();
        }
    }
}
