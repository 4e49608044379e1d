//! Lifecycle: paid auditions, their evaluation, and the way from a passed audition to the Arena.
