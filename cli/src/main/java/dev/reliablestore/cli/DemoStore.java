package dev.reliablestore.cli;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.cluster.crypto.KeySource;
import dev.reliablestore.cluster.crypto.KeySources;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * The store the demo runs on: the cluster-registry provider on an embedded registry in
 * {@code <dir>/registry}, with compression and AES-256-GCM encryption on. The passphrase comes from
 * {@value #PASSPHRASE_ENV} when set, otherwise from {@code <dir>/demo-passphrase}, generated (owner-only
 * permissions) on the first run, so the demo can run again in the same folder. Key material is never
 * printed; only the key id (which does not reveal it) is.
 */
final class DemoStore {

    static final String PASSPHRASE_ENV = "RELIABLESTORE_DEMO_PASSPHRASE";
    static final String PASSPHRASE_FILE = "demo-passphrase";
    static final String RESOURCE_GROUP = "ReliableStore-Demo";
    static final String KEY_PATH = "Software\\ReliableStore\\Demo";

    private final Path registryDir;
    private final String keyOrigin;
    private final ClusterPersistenceConfiguration configuration;
    private volatile String activeKeyId;

    private DemoStore(Path registryDir, String keyOrigin, char[] passphrase) {
        this.registryDir = registryDir;
        this.keyOrigin = keyOrigin;
        KeySource source = KeySources.passphrase(List.of(passphrase));
        Arrays.fill(passphrase, '\0');
        this.configuration = ClusterPersistenceConfiguration.builder()
                .clusterName("embedded:" + registryDir)
                .resourceGroupName(RESOURCE_GROUP)
                .registryKeyPath(KEY_PATH)
                .enableCompression(true)
                .enableEncryption(true)
                .keySource(context -> {
                    KeyRing ring = source.load(context);
                    activeKeyId = ring.activeKeyId();
                    return ring;
                })
                .build();
    }

    static DemoStore in(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        try {
            Files.createDirectories(abs);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the demo folder " + abs, e);
        }
        String fromEnv = System.getenv(PASSPHRASE_ENV);
        if (fromEnv != null && !fromEnv.isEmpty()) {
            return new DemoStore(abs.resolve("registry"), "passphrase from $" + PASSPHRASE_ENV, fromEnv.toCharArray());
        }
        Path file = abs.resolve(PASSPHRASE_FILE);
        boolean generated = generateIfMissing(file);
        try {
            char[] passphrase = Files.readString(file, StandardCharsets.UTF_8).strip().toCharArray();
            if (passphrase.length == 0) {
                throw CliException.failed("the demo passphrase file " + file + " is empty; delete it (and the demo folder's "
                        + "registry) to start afresh, or set " + PASSPHRASE_ENV);
            }
            return new DemoStore(abs.resolve("registry"), "passphrase from " + file + (generated ? ", generated just now" : ""), passphrase);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the demo passphrase file " + file, e);
        }
    }

    /** Creates the passphrase file with 32 random bytes, readable by the owner only; false if it exists. */
    private static boolean generateIfMissing(Path file) {
        if (Files.exists(file)) {
            return false;
        }
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        byte[] text = (Base64.getUrlEncoder().withoutPadding().encodeToString(random) + "\n").getBytes(StandardCharsets.US_ASCII);
        try {
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException notPosix) {
                Files.createFile(file);
            }
            Files.write(file, text, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
            return true;
        } catch (FileAlreadyExistsException raced) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the demo passphrase file " + file, e);
        } finally {
            Arrays.fill(random, (byte) 0);
            Arrays.fill(text, (byte) 0);
        }
    }

    StoreFactory open() {
        return ClusterPersistenceProvider.open(configuration);
    }

    String provider() {
        return ClusterPersistenceProvider.NAME;
    }

    String description() {
        return "embedded registry in " + registryDir + ", root " + configuration.root();
    }

    /** The value pipeline, after the store opened (the key id is known then). */
    String pipeline() {
        return "JSON -> zstd (a trained per-type dictionary once enough samples are seen) -> AES-256-GCM (key " + activeKeyId
                + ", " + keyOrigin + ") -> envelope bound to root/type/id/version";
    }

    /** The --store options that reach the demo's data with the other commands. */
    String storeOptions() {
        return "--store embedded:" + registryDir + " --resource-group " + RESOURCE_GROUP + " --key-path '" + KEY_PATH + "' "
                + (keyOrigin.startsWith("passphrase from $") ? "--passphrase-env " + PASSPHRASE_ENV
                : "--passphrase-file " + registryDir.getParent().resolve(PASSPHRASE_FILE));
    }
}
