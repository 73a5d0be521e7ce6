package dev.reliablestore.spring.data.auto;

import org.springframework.data.repository.CrudRepository;

/** Found under the auto-configuration package, with no @EnableReliableStoreRepositories anywhere. */
public interface Notes extends CrudRepository<Note, String> {

    long deleteByText(String text);
}
