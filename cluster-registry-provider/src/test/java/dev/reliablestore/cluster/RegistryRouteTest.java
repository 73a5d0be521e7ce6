package dev.reliablestore.cluster;

import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The provider's compiled classes, read with a minimal class-file constant-pool reader: which of
 * them call the registry's reads and commits. Every call on {@code ClusterRegistry} (a lambda's
 * body or a method reference included) is a constant-pool entry of the class it is written in.
 */
class RegistryRouteTest {

    private static final String REGISTRY = "dev/reliablestore/registry/ClusterRegistry";
    private static final Set<String> DATA_CALLS = Set.of("read", "getValue", "values", "subkeys", "keyExists", "commit", "commitAsync", "syncCommitAsync");

    @Test
    void theStoreAndTheTransactionParticipantReachTheRegistryOnlyThroughTheGateway() throws Exception {
        Set<String> callers = registryCallers();
        assertThat(callers).contains("dev.reliablestore.cluster.RegistryGateway")
                // a backup reads the raw tree at one sequence, whatever it holds; the geo shipper's translator
                // reads the target's entities in one read batch and its ledger applies another site's batches
                // as raw registry commands together with its checkpoint (no store's reads and writes: their
                // errors are the shipper's to retry, docs/geo-replication.md); the site links renew the
                // shipper lease and the tombstone collector removes tombstones in the links' loop, which
                // retries both on its next round; a site link's status and a resync are a tool's one-shot work;
                // the geo layer's entity states list a site's entity types for the collector and the resync;
                // conflict records are read for tests and collected in the links' loop (a store reads them
                // through the gateway); owed merges are made after a shipment lands and in the links' loop,
                // which look again on their next round; both collectors remove what they read through
                // ConditionalRemovals; the admin API checks that a site holds a store before a tool reads its
                // conflict records (a one-shot check, so that a mistyped root gets nothing created); a site's
                // range hashes are asked for and answered through bookkeeping values under Sites/Digests, whose
                // asker checks the shipper lease first (a resync's work: the tool reads whole after a timeout)
                .containsOnly("dev.reliablestore.cluster.RegistryGateway", "dev.reliablestore.cluster.backup.RegistrySnapshot",
                        "dev.reliablestore.cluster.geo.ShipmentLedger", "dev.reliablestore.cluster.geo.SiteTranslator",
                        "dev.reliablestore.cluster.SiteLinks", "dev.reliablestore.cluster.geo.TombstoneCollector",
                        "dev.reliablestore.cluster.geo.SiteReplication", "dev.reliablestore.cluster.geo.SiteResync",
                        "dev.reliablestore.cluster.geo.EntityStates", "dev.reliablestore.cluster.geo.ConflictRecords",
                        "dev.reliablestore.cluster.geo.PendingMerges", "dev.reliablestore.cluster.geo.ConditionalRemovals",
                        "dev.reliablestore.cluster.geo.SiteDigests", "dev.reliablestore.cluster.ClusterStoreAdmin");
    }

    /** Top-level class names whose code (nested classes and lambdas included) calls a data method of ClusterRegistry. */
    private static Set<String> registryCallers() throws IOException, URISyntaxException {
        Path classes = Path.of(RegistryGateway.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Set<String> callers = new TreeSet<>();
        try (Stream<Path> files = Files.walk(classes.resolve("dev/reliablestore/cluster"))) {
            for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".class"))::iterator) {
                try (InputStream in = Files.newInputStream(file)) {
                    if (callsRegistry(new DataInputStream(in))) {
                        String name = classes.relativize(file).toString().replace(file.getFileSystem().getSeparator(), ".");
                        callers.add(name.replaceAll("(\\$.*)?\\.class$", ""));
                    }
                }
            }
        }
        return callers;
    }

    /** Whether the constant pool holds a method reference to one of ClusterRegistry's data methods (JVMS 4.4). */
    private static boolean callsRegistry(DataInputStream in) throws IOException {
        in.readInt(); // magic
        in.readUnsignedShort();
        in.readUnsignedShort();
        int count = in.readUnsignedShort();
        String[] utf8 = new String[count];
        int[] classNames = new int[count];
        int[] nameAndTypeNames = new int[count];
        int[][] methodRefs = new int[count][];
        for (int i = 1; i < count; i++) {
            int tag = in.readUnsignedByte();
            switch (tag) {
                case 1 -> utf8[i] = in.readUTF();
                case 7 -> classNames[i] = in.readUnsignedShort();
                case 8, 16, 19, 20 -> in.readUnsignedShort();
                case 3, 4 -> in.readInt();
                case 5, 6 -> {
                    in.readLong();
                    i++;
                }
                case 9, 17, 18 -> in.readInt();
                case 10, 11 -> methodRefs[i] = new int[] {in.readUnsignedShort(), in.readUnsignedShort()};
                case 12 -> {
                    nameAndTypeNames[i] = in.readUnsignedShort();
                    in.readUnsignedShort();
                }
                case 15 -> {
                    in.readUnsignedByte();
                    in.readUnsignedShort();
                }
                default -> throw new IOException("unknown constant pool tag " + tag);
            }
        }
        for (int[] ref : methodRefs) {
            if (ref != null && REGISTRY.equals(utf8[classNames[ref[0]]]) && DATA_CALLS.contains(utf8[nameAndTypeNames[ref[1]]])) {
                return true;
            }
        }
        return false;
    }
}
