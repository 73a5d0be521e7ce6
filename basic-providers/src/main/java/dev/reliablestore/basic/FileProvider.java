package dev.reliablestore.basic;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.codec.EntityCodec;
import dev.reliablestore.codec.JacksonEntityCodec;
import dev.reliablestore.spi.PersistenceProvider;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * The {@code "file"} provider: one JSON document per entity in a folder per entity type, each
 * written atomically and durably (temporary file, fsync, atomic rename, directory fsync), batches
 * made atomic by an intent journal that is rolled forward when the directory is opened again.
 * One process at a time owns a directory (an exclusive lock file). See {@code docs/providers.md}.
 *
 * <p>Configuration:
 * <ul>
 *   <li>{@value #DIRECTORY} (required): the directory; created with its parents if missing.</li>
 *   <li>{@value #MAX_ENTITY_BYTES}: the largest entity, in bytes of its JSON encoding; default
 *       {@value #DEFAULT_MAX_ENTITY_BYTES} (16 MiB), from 1 to {@value #MAX_MAX_ENTITY_BYTES} (1 GiB).</li>
 * </ul>
 */
public final class FileProvider implements PersistenceProvider {

    /** The provider name. */
    public static final String NAME = "file";
    /** Configuration key: the directory holding the data (required). */
    public static final String DIRECTORY = "file.directory";
    /** Configuration key: the largest encoded entity, in bytes. */
    public static final String MAX_ENTITY_BYTES = "file.max-entity-bytes";
    /**
     * Configuration key: {@code true} adds a CRC32C to every document of a directory written before
     * checksums existed, then marks it upgraded; {@code false} (default) reads such a directory as it is.
     * A directory already upgraded (or created since) needs nothing: the option then has no work to do.
     */
    public static final String UPGRADE_FORMAT = "file.upgrade-format";
    /** Default of {@link #MAX_ENTITY_BYTES}: 16 MiB. */
    public static final long DEFAULT_MAX_ENTITY_BYTES = 16L * 1024 * 1024;
    /** Upper bound of {@link #MAX_ENTITY_BYTES}: 1 GiB. */
    public static final long MAX_MAX_ENTITY_BYTES = 1L << 30;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public StoreFactory open(Map<String, String> configuration) {
        return open(configuration, JacksonEntityCodec.defaults());
    }

    @Override
    public StoreFactory open(Map<String, String> configuration, EntityCodec codec) {
        ProviderConfig config = new ProviderConfig(NAME, configuration, Set.of(DIRECTORY, MAX_ENTITY_BYTES, UPGRADE_FORMAT));
        String dir = config.required(DIRECTORY);
        long max = config.longValue(MAX_ENTITY_BYTES, DEFAULT_MAX_ENTITY_BYTES, 1, MAX_MAX_ENTITY_BYTES);
        Path root;
        try {
            root = Path.of(dir).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new ConfigurationException(DIRECTORY + " is not a valid path: \"" + dir + "\" (" + e.getReason() + ")");
        }
        return FileStoreFactory.open(root, codec, max, config.booleanValue(UPGRADE_FORMAT, false));
    }
}
