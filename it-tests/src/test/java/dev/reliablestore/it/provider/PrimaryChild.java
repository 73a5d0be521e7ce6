package dev.reliablestore.it.provider;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceProvider;

import java.time.Duration;

/**
 * A provider instance in its own JVM, so a test can SIGKILL it: opens a cluster-registry factory on
 * the ensemble as member {@code args[2]}, writes one
 * note, prints {@code READY} and then lives until its stdin closes (the parent's death ends it too).
 *
 * <p>Arguments: connect string, chroot, node name, session timeout ms.
 */
public final class PrimaryChild {

    private PrimaryChild() {
    }

    public static void main(String[] args) throws Exception {
        StoreFactory factory = ClusterPersistenceProvider.open(HaFixture.config(args[0], args[1], args[2], Duration.ofSeconds(8),
                Duration.ofMillis(Long.parseLong(args[3]))).build());
        EntityStore<Note> notes = factory.store(Note.class);
        notes.save("from-" + args[2], new Note("written by the child", 1));
        System.out.println("READY");
        System.out.flush();
        while (System.in.read() >= 0) {
            // wait for EOF: the test closes stdin or kills this process
        }
        factory.close();
    }
}
