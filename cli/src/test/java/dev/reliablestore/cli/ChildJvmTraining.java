package dev.reliablestore.cli;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The training run of {@link ChildJvm}'s class-data sharing archive: the commands the process tests run most, once
 * each, on stores in the directory given as the only argument, so that the classes they load are in the archive.
 * What they print and how they end does not matter (a class none of them loads is loaded from its jar as usual).
 */
public final class ChildJvmTraining {

    private ChildJvmTraining() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        // one encrypted store (each key derivation costs a fraction of a second), one plain
        Files.writeString(dir.resolve("passphrase"), "training passphrase");
        String[] key = {"--passphrase-file", dir.resolve("passphrase").toString()};
        String encrypted = "embedded:" + dir.resolve("encrypted");
        run(cat(new String[] {"put", "--store", encrypted, "--type", "Customer", "--id", "C-1", "{\"name\":\"Acme\"}"}, key));
        run(cat(new String[] {"get", "--store", encrypted, "--type", "Customer", "--id", "C-1", "--json"}, key));
        String store = "embedded:" + dir.resolve("plain");
        run("put", "--store", store, "--type", "Customer", "--id", "C-1", "{\"name\":\"Acme\"}");
        run("get", "--store", store, "--type", "Customer", "--id", "C-1");
        run("list", "--store", store, "--type", "Customer");
        run("count", "--store", store, "--json");
        run("status", "--store", store);
        run("status", "--store", store, "--json");
        run("health", "--store", store);
        run("verify", "--store", store);
        run("backup", "--store", store, "--out", dir.resolve("store.rsbackup").toString(), "--json");
        run("restore", "--store", "embedded:" + dir.resolve("restored"), "--in", dir.resolve("store.rsbackup").toString());
        run("migrate", "--from", store, "--to", "file:" + dir.resolve("files"));
        run("watch", "--store", store, "--timeout", "10ms");
        run("--help");
        // the ZooKeeper client's classes: a port nothing listens on, given up after 100 ms
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        run("status", "--store", "zookeeper://127.0.0.1:" + port + "/training?acl=open", "--registry-option", "connectionTimeout=100ms");
        System.exit(0);
    }

    private static String[] cat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static void run(String... args) {
        ReliableStoreCli.run(args);
    }
}
