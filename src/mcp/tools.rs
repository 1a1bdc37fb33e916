//! The stackwiz tool table and resources: each tool maps its arguments onto an operation in
//! `crate::ops` and returns that operation's report. Filled in once the operations land.

use super::dispatch::{Catalog, Resource, ResourceText, Tool};
use crate::error::Error;
use crate::ops::Ctx;

pub static TOOLS: &[Tool] = &[];

pub static CATALOG: Catalog = Catalog {
    tools: TOOLS,
    resource_templates: &[],
    list_resources,
    read_resource,
};

fn list_resources(_: &Ctx) -> Result<Vec<Resource>, Error> {
    Ok(Vec::new())
}

fn read_resource(_: &Ctx, _: &str) -> Result<Option<ResourceText>, Error> {
    Ok(None)
}
