package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.spi.ClusterRegistryBackend;

import java.net.URI;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The {@code embedded:<directory>} backend: a single-process registry kept in memory and made
 * durable in {@code <directory>} (see docs/embedded-backend.md for its options and guarantees).
 * Found through {@link java.util.ServiceLoader}; open it with
 * {@link dev.reliablestore.registry.ClusterRegistries#open}.
 */
public final class EmbeddedRegistryBackend implements ClusterRegistryBackend {

    @Override
    public String scheme() {
        return EmbeddedRegistry.SCHEME;
    }

    @Override
    public ClusterRegistry open(URI uri, Map<String, String> options) {
        String text = uri.toString();
        if (!EmbeddedRegistry.SCHEME.equalsIgnoreCase(uri.getScheme())) {
            throw EmbeddedRegistry.badUri(text, "does not have the scheme embedded");
        }
        String path;
        if (uri.isOpaque()) {
            // java.net.URI parses no query out of an opaque URI ("embedded:data?x=1"): it would name a directory "data?x=1"
            int query = uri.getRawSchemeSpecificPart().indexOf('?');
            if (query >= 0) {
                throw EmbeddedRegistry.badUri(text, "has a query; pass options in the options map");
            }
            path = uri.getSchemeSpecificPart();
        } else {
            if (uri.getRawAuthority() != null) {
                throw EmbeddedRegistry.badUri(text, "has a host part (\"" + uri.getRawAuthority() + "\"); a directory is expected");
            }
            if (uri.getRawQuery() != null) {
                throw EmbeddedRegistry.badUri(text, "has a query; pass options in the options map");
            }
            path = uri.getPath();
        }
        if (uri.getRawFragment() != null) {
            throw EmbeddedRegistry.badUri(text, "has a fragment (\"" + uri.getRawFragment() + "\")");
        }
        if (path == null || path.isBlank()) {
            throw EmbeddedRegistry.badUri(text, "names no directory");
        }
        Path dir;
        try {
            dir = Path.of(path);
        } catch (InvalidPathException e) {
            throw EmbeddedRegistry.badUri(text, "names an invalid directory: " + e.getMessage());
        }
        return EmbeddedRegistry.open(dir, EmbeddedOptions.parse(options), ChannelFactory.DEFAULT);
    }

    @Override
    public java.util.Set<String> optionNames() {
        return EmbeddedOptions.TABLE.names();
    }
}
