package dev.reliablestore.spring.data;

import org.springframework.data.keyvalue.core.KeyValueTemplate;
import org.springframework.data.keyvalue.core.mapping.context.KeyValueMappingContext;

import dev.reliablestore.api.StoreFactory;

/** Spring Data KeyValue over ReliableStore: the template {@link EnableReliableStoreRepositories} uses. */
public final class ReliableStoreKeyValue {

    /** The name of the template bean repositories use unless {@code keyValueTemplateRef} names another. */
    public static final String TEMPLATE_BEAN = "reliableStoreKeyValueTemplate";

    private ReliableStoreKeyValue() {
    }

    /**
     * A template over the factory's stores: one entity type per keyspace (the class's simple name
     * unless {@code @KeySpace} names it), {@code @Version} as the store's conditional save, and
     * ReliableStore's exceptions translated to Spring's {@code DataAccessException}s. Closing the
     * template leaves the factory open.
     */
    public static KeyValueTemplate template(StoreFactory factory) {
        KeyValueMappingContext<?, ?> mapping = new KeyValueMappingContext<>();
        KeyValueTemplate template = new KeyValueTemplate(new StoreKeyValueAdapter(factory, mapping), mapping);
        template.setExceptionTranslator(new StoreExceptionTranslator());
        return template;
    }
}
