//! The owner's clones, a clone's versions and its moderation history, paged through more rows
//! than a page holds, many sharing one timestamp: every row is seen exactly once, in the
//! list's order.

use std::future::Future;

use chrono::Duration;
use clones_clone_service::{CloneError, CloneService, ProfileSubmission};
use clones_kernel::{Cursor, DomainError, Page, PageRequest};
use uuid::Uuid;

use crate::support::{fixture, tweaked};

/// Every item of a list, read `limit` at a time by following the cursors.
async fn walk<T, F, Fut>(limit: u32, mut read: F) -> Vec<T>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, CloneError>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    for pages in 1.. {
        assert!(pages < 100, "the cursors never reached the end");
        let page = read(PageRequest::new(Some(limit), cursor).unwrap())
            .await
            .unwrap();
        assert!(page.items.len() <= limit as usize);
        items.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    items
}

fn invalid_page<T: std::fmt::Debug>(result: Result<T, CloneError>) {
    let error = result.unwrap_err();
    assert_eq!(error.code(), "invalid_page", "{error:?}");
}

#[tokio::test]
async fn clones_page_oldest_first_through_a_shared_timestamp() {
    let f = fixture().await;
    let (owner, stranger) = (f.user().await, f.user().await);
    // Seven clones at one instant, then three a second later; within an instant the id breaks
    // the tie.
    let mut earlier = Vec::new();
    for _ in 0..7 {
        earlier.push(f.paid_clone(owner).await);
    }
    f.paid_clone(stranger).await;
    f.clock.advance(Duration::seconds(1));
    let mut later = Vec::new();
    for _ in 0..3 {
        later.push(f.paid_clone(owner).await);
    }
    earlier.sort_unstable();
    later.sort_unstable();
    let expected: Vec<Uuid> = earlier.into_iter().chain(later).collect();

    let listed: Vec<Uuid> = walk(3, |page| f.service.list_clones(owner, page))
        .await
        .into_iter()
        .map(|clone| clone.id)
        .collect();
    assert_eq!(listed, expected);
    let whole = f
        .service
        .list_clones(owner, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(whole.items.len(), 10);
    assert_eq!(whole.next_cursor, None, "the last page names no next one");
}

#[tokio::test]
async fn versions_page_newest_first_even_when_published_at_one_instant() {
    let f = fixture().await;
    let owner = f.user().await;
    let (clone, other) = (f.paid_clone(owner).await, f.paid_clone(owner).await);
    // The clock never moves: every version shares its publish time, and the list still reads
    // in version order.
    let mut graph = f.service.get_draft(owner, clone).await.unwrap().graph;
    for _ in 0..7 {
        f.service
            .save_draft(owner, clone, graph.clone())
            .await
            .unwrap();
        f.service.publish(owner, clone).await.unwrap();
        graph = tweaked(&graph);
    }
    f.service.publish(owner, other).await.unwrap();

    let numbers: Vec<i32> = walk(3, |page| f.service.list_versions(owner, clone, page))
        .await
        .into_iter()
        .map(|version| version.version)
        .collect();
    assert_eq!(numbers, [7, 6, 5, 4, 3, 2, 1]);

    // A cursor must name a version of this clone, at its publish time.
    let first = f
        .service
        .list_versions(owner, clone, PageRequest::new(Some(2), None).unwrap())
        .await
        .unwrap();
    let cursor = first.next_cursor.unwrap();
    let of_other = f
        .service
        .list_versions(
            owner,
            other,
            PageRequest::new(Some(2), Some(cursor)).unwrap(),
        )
        .await;
    invalid_page(of_other);
    let moved = Cursor::new(cursor.at() + Duration::seconds(1), cursor.id());
    invalid_page(
        f.service
            .list_versions(
                owner,
                clone,
                PageRequest::new(Some(2), Some(moved)).unwrap(),
            )
            .await,
    );
    let unknown = Cursor::new(cursor.at(), Uuid::new_v4());
    invalid_page(
        f.service
            .list_versions(
                owner,
                clone,
                PageRequest::new(Some(2), Some(unknown)).unwrap(),
            )
            .await,
    );
}

#[tokio::test]
async fn moderation_history_pages_in_the_order_it_was_written() {
    let f = fixture().await;
    let (owner, admin) = (f.user().await, f.admin().await);
    let clone = f.paid_clone(owner).await;
    f.service
        .submit_profile(
            owner,
            clone,
            ProfileSubmission {
                display_name: "Alpha".into(),
                username: "alpha_pages".into(),
                bio: String::new(),
                avatar_url: None,
            },
        )
        .await
        .unwrap();
    // Eight admin entries at the profile's instant, then three a second later; each names its
    // place in its reason. Random ids would scramble entries sharing a time, the write order
    // must not.
    let mut expected = vec![String::new()];
    for n in 0..11 {
        if n == 8 {
            f.clock.advance(Duration::seconds(1));
        }
        let reason = format!("step {n}");
        if n % 2 == 0 {
            f.service
                .retire(admin, clone, reason.clone())
                .await
                .unwrap();
        } else {
            f.service
                .reinstate(admin, clone, reason.clone())
                .await
                .unwrap();
        }
        expected.push(reason);
    }

    let reasons: Vec<String> = walk(3, |page| f.service.moderation_history(clone, page))
        .await
        .into_iter()
        .map(|entry| entry.reason)
        .collect();
    assert_eq!(reasons, expected);

    let other = f.paid_clone(owner).await;
    let first = f
        .service
        .moderation_history(clone, PageRequest::new(Some(2), None).unwrap())
        .await
        .unwrap();
    invalid_page(
        f.service
            .moderation_history(other, PageRequest::new(Some(2), first.next_cursor).unwrap())
            .await,
    );
}
