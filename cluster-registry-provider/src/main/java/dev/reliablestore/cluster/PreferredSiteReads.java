package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityIds;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.api.Versioned;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A store's {@link PreferredReads}: at the preferred site while it answers, else through the store
 * itself (the local site, with its cache and metrics).
 */
final class PreferredSiteReads<T> implements PreferredReads<T> {

    private final RegistryEntityStore<T> local;
    private final String localSite;
    private final PreferredSite preferred;
    private final Materialiser<T> materialiser;

    /** {@code preferred}: null when the local site answers every read. */
    PreferredSiteReads(RegistryEntityStore<T> local, String localSite, PreferredSite preferred, Materialiser<T> materialiser) {
        this.local = local;
        this.localSite = localSite;
        this.preferred = preferred;
        this.materialiser = materialiser;
    }

    @Override
    public Optional<String> site() {
        if (preferred != null && preferred.answering()) {
            return Optional.of(preferred.name());
        }
        return Optional.ofNullable(localSite);
    }

    @Override
    public Optional<T> get(String id) {
        // the checks the local store makes before any I/O: the same refusal whichever site answers
        StorageLayout.requireStorableId(EntityIds.requireValidId(id));
        return there(r -> Optional.ofNullable(r.values().get(List.of(id)).values().get(id)).map(d -> materialiser.value(d, where(id))),
                () -> local.get(id).map(Versioned::value));
    }

    @Override
    public Map<String, T> getMany(Collection<String> ids) {
        Objects.requireNonNull(ids, "ids");
        List<String> list = new ArrayList<>(ids.size());
        for (String id : ids) {
            list.add(StorageLayout.requireStorableId(EntityIds.requireValidId(id)));
        }
        return there(r -> {
            Map<String, EntityValues.Decoded> found = r.values().get(list).values();
            Map<String, T> out = new LinkedHashMap<>();
            for (String id : list) {
                EntityValues.Decoded d = found.get(id);
                if (d != null) {
                    out.put(id, materialiser.value(d, where(id)));
                }
            }
            return out;
        }, () -> {
            Map<String, T> out = new LinkedHashMap<>();
            local.getMany(list).forEach((id, v) -> out.put(id, v.value()));
            return out;
        });
    }

    @Override
    public List<T> getAll() {
        return there(r -> {
            List<T> out = new ArrayList<>();
            r.values().all().values().forEach((id, d) -> out.add(materialiser.value(d, where(id))));
            return out;
        }, () -> local.getAll().stream().map(Versioned::value).toList());
    }

    @Override
    public boolean exists(String id) {
        StorageLayout.requireStorableId(EntityIds.requireValidId(id));
        return there(r -> r.values().exists(id), () -> local.exists(id));
    }

    @Override
    public long count() {
        return there(r -> (long) r.records().index("count of " + local.typeName() + " entities at site " + preferred.name()).versions().size(),
                local::count);
    }

    private String where(String id) {
        return local.typeName() + "/" + id + " (at site " + preferred.name() + ")";
    }

    /** {@code remote} at the preferred site if it answers, else {@code here}. */
    private <R> R there(Function<PreferredSite.Reader, R> remote, Supplier<R> here) {
        local.requireOpen();
        Optional<PreferredSite.Reader> reader = preferred == null ? Optional.empty() : preferred.reader(local.typeName());
        if (reader.isPresent()) {
            R answer;
            try {
                answer = remote.apply(reader.get());
            } catch (StoreUnavailableException e) {
                preferred.away(e);
                return here.get();
            } catch (RuntimeException e) {
                // the site answered, with a failure of its own (refused access, a damaged value): the caller sees it
                preferred.answered();
                throw e;
            }
            preferred.answered();
            return answer;
        }
        return here.get();
    }

    @Override
    public String toString() {
        return "preferred reads of " + local.typeName() + (preferred == null ? " (local site)" : " (site " + preferred.name() + ")");
    }
}
