package dev.reliablestore.spring.data.sample;

import java.util.List;

import org.springframework.data.repository.CrudRepository;

/** A repository of docs/spring.md (RepositorySampleTest checks the page shows it). */
public interface Customers extends CrudRepository<Customer, String> {

    List<Customer> findByTier(String tier); // reads every Customer: see "Queries scan"

    long deleteByTier(String tier); // one conditional delete per match, not atomic: see "Derived deletes"
}
