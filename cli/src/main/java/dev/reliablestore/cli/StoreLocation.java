package dev.reliablestore.cli;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Where a store lives, from the {@code --store} argument: {@code embedded:<dir>},
 * {@code zookeeper://host:port[,host:port…]/<chroot>} or {@code clusapi://<cluster>} (the
 * cluster-registry provider on that registry), or {@code file:<dir>} (the file provider).
 *
 * @param text     the argument as given
 * @param cluster  whether the cluster-registry provider serves it
 * @param registry the registry URI (cluster stores; an embedded directory made absolute), else null
 * @param dir      the local directory of embedded and file stores, else null
 */
record StoreLocation(String text, boolean cluster, String registry, Path dir) {

    static final String SCHEMES = "embedded:<dir>, zookeeper://host:port[,host:port…]/<chroot>, clusapi://<cluster> or file:<dir>";

    static StoreLocation parse(String text) {
        if (text == null || text.isBlank()) {
            throw CliException.usage("no store given; use --store with " + SCHEMES);
        }
        int colon = text.indexOf(':');
        if (colon <= 0) {
            throw CliException.usage("store \"" + shown(text) + "\" has no scheme; use " + SCHEMES);
        }
        String scheme = text.substring(0, colon).toLowerCase(Locale.ROOT);
        String rest = text.substring(colon + 1);
        switch (scheme) {
            case "embedded" -> {
                Path dir = directory(text, rest);
                return new StoreLocation(text, true, "embedded:" + dir, dir);
            }
            case "file" -> {
                return new StoreLocation(text, false, null, directory(text, rest));
            }
            case "zookeeper", "clusapi" -> {
                if (!rest.startsWith("//") || rest.length() <= 2) {
                    throw CliException.usage("store \"" + shown(text) + "\" is malformed; expected " + scheme + "://"
                            + (scheme.equals("zookeeper") ? "host:port[,host:port…]/<chroot>" : "<cluster>"));
                }
                RegistryOptions.refuseSecretLiterals(text, "--store");
                return new StoreLocation(text, true, text, null);
            }
            default -> throw CliException.usage("unknown store scheme \"" + shown(scheme) + "\" in \"" + shown(text) + "\"; use " + SCHEMES);
        }
    }

    /** The argument as errors show it: a mistyped scheme must not put a {@code digest} credential on stderr. */
    private static String shown(String text) {
        return dev.reliablestore.registry.ClusterRegistries.redact(text);
    }

    private static Path directory(String text, String path) {
        if (path.startsWith("//")) {
            path = path.substring(2);
        }
        if (path.isBlank()) {
            throw CliException.usage("store \"" + shown(text) + "\" names no directory");
        }
        try {
            return Path.of(path).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw CliException.usage("store \"" + shown(text) + "\" names an invalid directory: " + e.getMessage());
        }
    }

    /** For messages: the registry URI or the file directory. */
    String describe() {
        if (!cluster) {
            return "file:" + dir;
        }
        int query = registry.indexOf('?');
        return query < 0 ? registry : registry.substring(0, query); // a query may hold credentials
    }
}
